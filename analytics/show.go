package analytics

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"text/tabwriter"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// PrintList writes one line per snapshot file under dir (`snapshots ls`):
// INTERVALS is 1 for an IPC file, the intervals compacted into a Parquet
// file, and "-" for an IPC file a Parquet file holds (readers skip it).
func PrintList(w io.Writer, dir string) error {
	files, err := List(dir)
	if err != nil {
		return err
	}
	bad := map[string]error{}
	ix, err := index(files, bad)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tSENSOR\tFORMAT\tINTERVALS\tBYTES\tPATH")
	covered := 0
	for _, f := range files {
		n := "1"
		switch {
		case bad[f.Path] != nil:
			n = "corrupt"
		case f.Format == FormatParquet:
			n = fmt.Sprint(len(ix.parquet[f.Path].Intervals))
		case ix.coveredBy(f) != "":
			n = "-"
			covered++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", f.Start.Format("2006-01-02T15:04:05Z"), f.Sensor, f.Format, n, f.Size, f.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if covered > 0 {
		fmt.Fprintf(w, "%d IPC files are compacted into a Parquet file (-): readers use the Parquet file; `snapshots compact --delete-source` removes them\n", covered)
	}
	for _, f := range files {
		if err := bad[f.Path]; err != nil {
			fmt.Fprintf(w, "corrupt: %v\n", err)
		}
	}
	return nil
}

// errShown stops reading once Show has printed enough rows.
var errShown = errors.New("shown")

// Show writes a snapshot file's metadata and its first limit rows (all
// when limit <= 0) as a table (`snapshots show`). A Parquet file's rows
// are shown interval after interval, each with its start.
func Show(w io.Writer, path string, limit int) error {
	if filepath.Ext(path) == parquetExt {
		return showParquet(w, path, limit)
	}
	s, err := ReadFile(path)
	if err != nil {
		return err
	}
	m := s.Meta
	fmt.Fprintf(w, "sensor %s  interval %v  start %s  end %s  rows %d  dropped before %d  schema v%d\n",
		m.SensorID, m.Interval, m.Start.Format("2006-01-02T15:04:05Z"), m.End.Format("2006-01-02T15:04:05Z"), len(s.Rows), m.Dropped, m.Version)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "IP\tGROUP\tIN PKTS\tIN BYTES\tOUT PKTS\tOUT BYTES\tIN PPS PEAK\tIN BPS PEAK\tIN SYN PEAK\tOUT PPS PEAK\t")
	for i := range s.Rows {
		if limit > 0 && i == limit {
			break
		}
		showRow(tw, "", s, i)
	}
	return tw.Flush()
}

func showParquet(w io.Writer, path string, limit int) error {
	info, err := StatParquet(path)
	if err != nil {
		return err
	}
	m := info.Meta
	fmt.Fprintf(w, "sensor %s  interval %v  start %s  end %s  intervals %d  rows %d  dropped %d  schema v%d  parquet\n",
		m.SensorID, m.Interval, m.Start.Format("2006-01-02T15:04:05Z"), m.End.Format("2006-01-02T15:04:05Z"),
		len(info.Intervals), info.Rows, m.Dropped, m.Version)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "START\tIP\tGROUP\tIN PKTS\tIN BYTES\tOUT PKTS\tOUT BYTES\tIN PPS PEAK\tIN BPS PEAK\tIN SYN PEAK\tOUT PPS PEAK\t")
	shown := 0
	_, err = ReadParquet(path, func(s *Snapshot) error {
		for i := range s.Rows {
			if limit > 0 && shown == limit {
				return errShown
			}
			showRow(tw, s.Meta.Start.Format("15:04:05")+"\t", s, i)
			shown++
		}
		return nil
	})
	if err != nil && !errors.Is(err, errShown) {
		return err
	}
	return tw.Flush()
}

func showRow(w io.Writer, prefix string, s *Snapshot, i int) {
	r := &s.Rows[i]
	g := "-"
	if r.Group >= 0 && int(r.Group) < len(s.Groups) {
		g = s.Groups[r.Group]
	}
	in, out := &r.Counts[aggregate.In], &r.Counts[aggregate.Out]
	fmt.Fprintf(w, "%s%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", prefix, netip.AddrFrom16(r.Key).Unmap(), g,
		in.Packets[hosts.Total], in.Bytes[hosts.Total], out.Packets[hosts.Total], out.Bytes[hosts.Total],
		r.Peaks[aggregate.In][aggregate.PPS], r.Peaks[aggregate.In][aggregate.BPS],
		r.Peaks[aggregate.In][aggregate.SYNPPS], r.Peaks[aggregate.Out][aggregate.PPS])
}
