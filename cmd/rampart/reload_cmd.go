package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/api"
)

func newReloadCmd(_ *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Reload the running sensor's configuration (hostgroups, whitelist, thresholds file)",
		Long: "Reload asks the running sensor to read its configuration file again, as SIGHUP does.\n" +
			"Hostgroups, the whitelist and detection.thresholds_file apply from the next tick;\n" +
			"other changed sections are listed as needing a restart and are not applied.\n" +
			"An invalid file changes nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := f.client().Reload(cmd.Context())
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			return writeReload(cmd.OutOrStdout(), &res)
		},
	}
	f.add(cmd)
	return cmd
}

func writeReload(out io.Writer, r *api.ReloadResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "applied: %s\n", strings.Join(r.Applied, ", "))
	if len(r.RestartRequired) > 0 {
		fmt.Fprintf(&b, "changed, needs a restart (not applied): %s\n", strings.Join(r.RestartRequired, ", "))
	}
	if t := r.ThresholdsFile; t != nil {
		switch {
		case t.Missing:
			fmt.Fprintf(&b, "thresholds file %s: not found, configured thresholds in force\n", t.Path)
		default:
			fmt.Fprintf(&b, "thresholds file %s: %d hosts, %d groups\n", t.Path, t.Hosts, t.Groups)
		}
		if len(t.UnknownGroups) > 0 {
			fmt.Fprintf(&b, "thresholds file names unknown hostgroups (ignored): %s\n", strings.Join(t.UnknownGroups, ", "))
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}
