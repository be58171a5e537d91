package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/sensor/detect"
)

// newBGPCmd is "rampart bgp": the running sensor's BGP speaker, through
// its API.
func newBGPCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bgp",
		Short: "Show and change the running sensor's BGP announcements",
	}
	cmd.AddCommand(newBGPStatusCmd(g), newBGPAnnounceCmd(g), newBGPWithdrawCmd(g))
	return cmd
}

func newBGPStatusCmd(_ *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the BGP sessions and the announcements in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := f.client().BGP(cmd.Context())
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), st)
			}
			return writeBGPStatus(cmd.OutOrStdout(), &st)
		},
	}
	f.add(cmd)
	return cmd
}

func writeBGPStatus(out io.Writer, st *api.BGPStatus) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tSTATE\tFAMILIES")
	for _, s := range st.Sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Peer, s.State, strings.Join(s.Families, ","))
	}
	if len(st.Sessions) == 0 {
		fmt.Fprintln(tw, "(no peers)")
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "active\t%s\n", joinCounts(st.Active))
	fmt.Fprintf(tw, "refused\t%s\n", joinCounts64(st.Refused))
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ID\tBY\tACTION\tHOSTGROUP\tSINCE\tEXPIRES\tNLRI")
	for _, a := range st.Announcements {
		by := "detector"
		if strings.HasPrefix(a.ID, api.ManualPrefix) {
			by = "manual"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, by, a.Action, orDash(a.Hostgroup),
			a.Since.UTC().Format(time.RFC3339), orDash(formatTime(a.Expires)), a.NLRI)
	}
	if len(st.Announcements) == 0 {
		fmt.Fprintln(tw, "(no announcements)")
	}
	return tw.Flush()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func joinCounts64(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func newBGPAnnounceCmd(_ *globals) *cobra.Command {
	var (
		f                             apiFlags
		flowspec, blackhole, redirect string
		req                           api.AnnounceRequest
	)
	cmd := &cobra.Command{
		Use:   "announce --flowspec RULE | --blackhole PREFIX | --redirect PREFIX",
		Short: "Announce a manual mitigation now (the speaker's guardrails apply)",
		Example: `  rampart bgp announce --flowspec 'dst 198.51.100.7/32 proto udp sport 53 len 512-1500'
  rampart bgp announce --blackhole 198.51.100.7/32 --reason 'ticket 42'
  rampart bgp announce --redirect 198.51.100.0/24 --id scrub-web`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := buildAnnounce(&req, flowspec, blackhole, redirect); err != nil {
				return usageError{err}
			}
			a, err := f.client().Announce(cmd.Context(), req)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), a)
			}
			what := req.Prefix
			if req.Rule != nil {
				what = formatFlowSpec(req.Rule)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s %s queued as %s; the speaker sends it to its peers\n", a.Action, what, a.ID)
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&flowspec, "flowspec", "", "FlowSpec discard rule: dst|src PREFIX, proto, sport, dport, len, flags, frag")
	cmd.Flags().StringVar(&blackhole, "blackhole", "", "blackhole this prefix (RFC 7999)")
	cmd.Flags().StringVar(&redirect, "redirect", "", "divert this prefix to scrubbing")
	cmd.Flags().StringVar(&req.ID, "id", "", "ID to withdraw it by (prefixed manual-; default: a new one)")
	cmd.Flags().StringVar(&req.Hostgroup, "hostgroup", "", "use this hostgroup's action settings (default: the global ones)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why, for the logs (default \""+api.DefaultReason+"\")")
	return cmd
}

// buildAnnounce fills req from exactly one of the action flags.
func buildAnnounce(req *api.AnnounceRequest, flowspec, blackhole, redirect string) error {
	n := 0
	for _, v := range []string{flowspec, blackhole, redirect} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("give exactly one of --flowspec, --blackhole and --redirect")
	}
	switch {
	case flowspec != "":
		r, err := parseFlowSpec(flowspec)
		if err != nil {
			return err
		}
		req.Action, req.Rule = detect.ActionFlowSpec, r
	case blackhole != "":
		req.Action, req.Prefix = detect.ActionBlackhole, blackhole
	default:
		req.Action, req.Prefix = detect.ActionRedirect, redirect
	}
	return nil
}

func newBGPWithdrawCmd(_ *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "withdraw ID",
		Short: "Withdraw an announcement by its ID (see rampart bgp status)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.client().Withdraw(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), a)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "withdrawal of %s queued\n", a.ID)
			return err
		},
	}
	f.add(cmd)
	return cmd
}
