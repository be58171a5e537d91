package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/sensor/detect"
)

// apiFlags are the flags of every command that calls the API.
type apiFlags struct {
	addr  string
	token string
	json  bool
}

func (f *apiFlags) add(cmd *cobra.Command) {
	addr := os.Getenv("RAMPART_API")
	if addr == "" {
		addr = api.DefaultListen
	}
	cmd.Flags().StringVar(&f.addr, "api", addr, "API address (env RAMPART_API)")
	cmd.Flags().StringVar(&f.token, "token", "", "API token (env RAMPART_TOKEN)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the API's JSON")
}

func (f *apiFlags) client() *api.Client {
	tok := f.token
	if tok == "" {
		tok = os.Getenv("RAMPART_TOKEN")
	}
	return api.NewClient(f.addr, tok)
}

// printJSON re-indents v for scripts.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newStatusCmd(_ *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running sensor's status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := f.client().Status(cmd.Context())
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), st)
			}
			return writeStatus(cmd.OutOrStdout(), &st)
		},
	}
	f.add(cmd)
	return cmd
}

func writeStatus(out io.Writer, st *api.Status) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "version\t%s\n", st.Version)
	fmt.Fprintf(tw, "started\t%s (up %s)\n", st.StartedAt.Format(time.RFC3339), (time.Duration(st.UptimeSeconds) * time.Second).String())
	fmt.Fprintf(tw, "source\t%s\n", st.Source)
	for _, r := range []struct {
		dir string
		r   api.DirRates
	}{{"in", st.Rates.In}, {"out", st.Rates.Out}} {
		fmt.Fprintf(tw, "traffic %s\t%d pps, %d bps, %d new flows/s\n", r.dir, r.r.PPS, r.r.BPS, r.r.Flows)
	}
	a := st.Aggregator
	fmt.Fprintf(tw, "hosts\t%d tracked, %d dropped, %d expired\n", a.Hosts, a.HostsDropped, a.HostsExpired)
	fmt.Fprintf(tw, "ticks\t%d closed, %d late\n", a.TicksClosed, a.TicksLate)
	d := st.Detector
	fmt.Fprintf(tw, "attacks\t%d active (%s), %d detected, %d ended\n", sumActive(d.Active), joinCounts(d.Active), d.Detected, d.Ended)
	fmt.Fprintf(tw, "mitigations\t%d requested, %d refused\n", d.MitigationsRequested, d.MitigationsRefused)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "QUEUE\tPACKETS\tBYTES\tMISSED\tERRORS\tNOMBUF")
	for _, q := range st.Queues {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\n", q.Queue, q.Packets, q.Bytes, q.Missed, q.Errors, q.NoMbuf)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "WORKER\tPACKETS\tBYTES\tOTHER\tDECODE ERRORS\tHOSTS DROPPED\tFLUSHES SKIPPED\tBUSY")
	for _, w := range st.Workers {
		busy := "-"
		if st.UptimeSeconds > 0 {
			// Since start; rate(rampart_worker_busy_seconds_total) is the recent share.
			busy = fmt.Sprintf("%.1f%%", 100*w.BusySeconds/st.UptimeSeconds)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", w.Worker, w.Packets, w.Bytes, w.OtherPackets, w.DecodeErrors, w.HostsDropped, w.FlushesSkipped, busy)
	}
	if len(st.Flows) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "FLOW LISTENER\tEXPORTERS\tDATAGRAMS\tRECORDS\tERRORS")
		for _, fl := range st.Flows {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\n", fl.Listener, fl.Exporters, fl.Datagrams, fl.Records, fl.Errors)
		}
	}
	if b := st.BGP; b != nil {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "BGP PEER\tSTATE")
		for _, p := range sortedKeys(b.Sessions) {
			fmt.Fprintf(tw, "%s\t%s\n", p, b.Sessions[p])
		}
		fmt.Fprintf(tw, "announcements\t%s\n", joinCounts(b.Active))
	}
	return tw.Flush()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sumActive(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func joinCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func newTopCmd(_ *globals) *cobra.Command {
	var (
		f      apiFlags
		metric string
		dir    string
		n      int
		watch  bool
		every  time.Duration
		count  int
	)
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show the hosts with the highest rates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := f.client()
			out := cmd.OutOrStdout()
			show := func(ctx context.Context, clear bool) error {
				t, err := c.Top(ctx, metric, dir, n)
				if err != nil {
					return err
				}
				if f.json {
					return printJSON(out, t)
				}
				if clear {
					fmt.Fprint(out, "\x1b[H\x1b[2J")
				}
				return writeTop(out, &t)
			}
			tty := false
			if fl, ok := out.(*os.File); ok {
				tty = isatty.IsTerminal(fl.Fd())
			}
			if !watch {
				return show(cmd.Context(), false)
			}
			if every < 100*time.Millisecond {
				return fmt.Errorf("--interval: must be at least 100ms, got %v", every)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for shown := 0; count == 0 || shown < count; shown++ {
				if err := show(ctx, tty); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				if shown+1 == count {
					break
				}
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&metric, "metric", "pps", "pps, bps, flows, tcp_pps, syn_pps, udp_pps, icmp_pps or frag_pps")
	cmd.Flags().StringVar(&dir, "direction", "in", "in (host is the target) or out (host is the source)")
	cmd.Flags().IntVar(&n, "n", 20, "number of hosts")
	cmd.Flags().BoolVar(&watch, "watch", false, "redraw until interrupted (on a terminal: in place)")
	cmd.Flags().DurationVar(&every, "interval", time.Second, "with --watch: time between redraws")
	cmd.Flags().IntVar(&count, "count", 0, "with --watch: stop after this many redraws (0: never)")
	return cmd
}

func writeTop(out io.Writer, t *api.Top) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "IP\tHOSTGROUP\t%s %s\tPPS\tBPS\tFLOWS/S\t\n", strings.ToUpper(t.Metric), t.Direction)
	for _, h := range t.Hosts {
		g := h.Hostgroup
		if g == "" {
			g = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t\n", h.IP, g, h.Value, h.PPS, h.BPS, h.FlowsPS)
	}
	if len(t.Hosts) == 0 {
		fmt.Fprintln(tw, "(no traffic)\t\t\t\t\t\t")
	}
	return tw.Flush()
}

func newAttacksCmd(_ *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "attacks",
		Short: "List active and recent attacks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var as []detect.Attack
			if err := f.client().Attacks(cmd.Context(), &as); err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), as)
			}
			return writeAttacks(cmd.OutOrStdout(), as)
		},
	}
	f.add(cmd)
	return cmd
}

func writeAttacks(out io.Writer, as []detect.Attack) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tIP\tDIR\tTYPE\tSTATE\tDETECTED\tENDED\tPEAK PPS\tPEAK BPS\tACTION")
	for _, a := range as {
		typ := strings.Join(a.Types, "+")
		if typ == "" {
			typ = a.Type
		}
		action := a.Mitigation.Action
		if action == "" {
			action = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", a.ID, a.IP, a.Direction, typ, a.State,
			orDash(a.DetectedAt), orDash(a.EndedAt), a.PeakPPS, a.PeakBPS, action)
	}
	if len(as) == 0 {
		fmt.Fprintln(tw, "(no attacks)")
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newBanCmd(_ *globals) *cobra.Command {
	var (
		f   apiFlags
		req api.BanRequest
	)
	cmd := &cobra.Command{
		Use:   "ban IP",
		Short: "Mitigate traffic to (or from) a host now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.IP = args[0]
			a, err := f.client().Ban(cmd.Context(), req)
			if err != nil {
				return err
			}
			return writeAccepted(cmd.OutOrStdout(), f.json, "ban", &a)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&req.Direction, "direction", "in", "in (host is the target) or out (host is the source)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why, for the attack log (default \""+api.DefaultReason+"\")")
	cmd.Flags().StringVar(&req.Duration, "duration", "", "how long, e.g. 30m (default: the detector's min_ban_time)")
	return cmd
}

func newUnbanCmd(_ *globals) *cobra.Command {
	var (
		f   apiFlags
		req api.UnbanRequest
	)
	cmd := &cobra.Command{
		Use:   "unban IP",
		Short: "End the attacks on a host and withdraw their mitigations",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.IP = args[0]
			a, err := f.client().Unban(cmd.Context(), req)
			if err != nil {
				return err
			}
			return writeAccepted(cmd.OutOrStdout(), f.json, "unban", &a)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why, for the attack log (default \""+api.DefaultReason+"\")")
	return cmd
}

func writeAccepted(out io.Writer, asJSON bool, what string, a *api.Accepted) error {
	if asJSON {
		return printJSON(out, a)
	}
	msg := fmt.Sprintf("%s of %s queued", what, a.IP)
	if a.Direction != "" {
		msg += " (" + a.Direction
		if a.Duration != "" {
			msg += ", " + a.Duration
		}
		msg += ")"
	}
	_, err := fmt.Fprintf(out, "%s: %s; the detector applies it at its next tick\n", msg, a.Reason)
	return err
}
