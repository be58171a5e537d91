package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/internal/config"
	"github.com/rampartnet/rampart/sensor"
)

func newReplayCmd(g *globals) *cobra.Command {
	var path string
	var asJSON bool
	var flowPorts []uint
	cmd := &cobra.Command{
		Use:   "replay --config FILE [--json] PCAP...",
		Short: "Run pcap/pcapng files through the sensor pipeline on packet time and report",
		Long: "Replays capture files through exactly the live pipeline (decoder, host tables,\n" +
			"aggregator) on packet time, as fast as possible, and reports totals and per-host\n" +
			"counters. The same files always give the same report.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			start := time.Now()
			ports, err := replayFlowPorts(cfg, flowPorts)
			if err != nil {
				return err
			}
			res, err := sensor.Replay(cfg.Sensor(), files, sensor.ReplayOptions{FlowPorts: ports, Log: g.log})
			if err != nil {
				return err
			}
			groups := make([]string, len(cfg.Hostgroups))
			for i, hg := range cfg.Hostgroups {
				groups[i] = hg.Name
			}
			report := sensor.BuildReport(res, groups)
			g.log.Debug().Uint64("packets", report.Packets).Dur("took", time.Since(start)).Msg("replay done")
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(report)
			}
			return printReport(cmd.OutOrStdout(), report)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
	cmd.Flags().UintSliceVar(&flowPorts, "flow-ports", []uint{2055, 4739, 6343, 9995},
		"UDP ports whose datagrams are flow exports (NetFlow, IPFIX, sFlow); the ports of flow.listeners are added")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func printReport(w io.Writer, r *sensor.Report) error {
	span := time.Duration(r.LastPacket - r.FirstPacket)
	fmt.Fprintf(w, "packets %d  bytes %d  other (unmonitored) packets %d  span %s\n", r.Packets, r.Bytes, r.OtherPackets, span)
	kinds := make([]string, 0, len(r.DecodeErrors))
	for k, n := range r.DecodeErrors {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "decode errors: %s\n\n", strings.Join(kinds, " "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "IP\tGROUP\tDIR\tPACKETS\tBYTES\tTCP\tSYN\tUDP\tICMP\tFRAG\tFLOWS\tPEAK PPS\tPEAK BPS\t")
	for _, h := range r.Hosts {
		for _, d := range []struct {
			name string
			r    sensor.DirReport
		}{{"in", h.In}, {"out", h.Out}} {
			if d.r.Packets == 0 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", h.IP, h.Hostgroup, d.name,
				d.r.Packets, d.r.Bytes, d.r.TCPPackets, d.r.SYNPackets, d.r.UDPPackets, d.r.ICMPPackets,
				d.r.FragPackets, d.r.Flows, d.r.PeakPPS, d.r.PeakBPS)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nattacks: %d\n", len(r.Attacks))
	if len(r.Attacks) == 0 {
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IP\tDIR\tTYPE\tSTARTED\tDETECTED\tSTATE\tPEAK PPS\tPEAK BPS\tACTION\tRULE")
	for _, a := range r.Attacks {
		rule := a.Mitigation.Reason
		if a.Mitigation.Rule != nil {
			rule = a.Mitigation.Rule.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", a.IP, a.Direction, a.Type, a.StartedAt, a.DetectedAt,
			a.State, a.PeakPPS, a.PeakBPS, a.Mitigation.Action, rule)
		for _, v := range a.Vectors { // vectors the attack added later, each with its own rule
			rule := v.Mitigation.Reason
			if v.Mitigation.Rule != nil {
				rule = v.Mitigation.Rule.String()
			}
			fmt.Fprintf(tw, "  + vector\t\t%s\t\t%s\t\t\t\t%s\t%s\n", v.Type, v.DetectedAt, v.Mitigation.Action, rule)
		}
	}
	return tw.Flush()
}

// replayFlowPorts are the flag's ports plus those of the configured listeners.
func replayFlowPorts(cfg *config.Config, flag []uint) ([]uint16, error) {
	var ports []uint16
	for _, p := range flag {
		if p == 0 || p > 65535 {
			return nil, usageError{fmt.Errorf("--flow-ports: must be between 1 and 65535, got %d", p)}
		}
		ports = append(ports, uint16(p))
	}
	for _, l := range cfg.Flow.Listeners {
		if ap, err := netip.ParseAddrPort(l.Listen); err == nil && ap.Port() != 0 {
			ports = append(ports, ap.Port())
		}
	}
	return ports, nil
}
