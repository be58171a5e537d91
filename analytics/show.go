package analytics

import (
	"fmt"
	"io"
	"net/netip"
	"text/tabwriter"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// PrintList writes one line per snapshot file under dir (`snapshots ls`).
func PrintList(w io.Writer, dir string) error {
	files, err := List(dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tSENSOR\tFORMAT\tBYTES\tPATH")
	for _, f := range files {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", f.Start.Format("2006-01-02T15:04:05Z"), f.Sensor, f.Format, f.Size, f.Path)
	}
	return tw.Flush()
}

// Show writes a snapshot file's metadata and its first limit rows (all
// when limit <= 0) as a table (`snapshots show`).
func Show(w io.Writer, path string, limit int) error {
	s, err := ReadFile(path)
	if err != nil {
		return err
	}
	m := s.Meta
	fmt.Fprintf(w, "sensor %s  interval %v  start %s  end %s  rows %d  dropped before %d  schema v%d\n",
		m.SensorID, m.Interval, m.Start.Format("2006-01-02T15:04:05Z"), m.End.Format("2006-01-02T15:04:05Z"), len(s.Rows), m.Dropped, m.Version)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "IP\tGROUP\tIN PKTS\tIN BYTES\tOUT PKTS\tOUT BYTES\tIN PPS PEAK\tIN BPS PEAK\tIN SYN PEAK\tOUT PPS PEAK\t")
	for i, r := range s.Rows {
		if limit > 0 && i == limit {
			break
		}
		g := "-"
		if r.Group >= 0 && int(r.Group) < len(s.Groups) {
			g = s.Groups[r.Group]
		}
		in, out := &r.Counts[aggregate.In], &r.Counts[aggregate.Out]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", netip.AddrFrom16(r.Key).Unmap(), g,
			in.Packets[hosts.Total], in.Bytes[hosts.Total], out.Packets[hosts.Total], out.Bytes[hosts.Total],
			r.Peaks[aggregate.In][aggregate.PPS], r.Peaks[aggregate.In][aggregate.BPS],
			r.Peaks[aggregate.In][aggregate.SYNPPS], r.Peaks[aggregate.Out][aggregate.PPS])
	}
	return tw.Flush()
}
