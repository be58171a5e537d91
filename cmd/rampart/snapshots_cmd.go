package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/internal/config"
)

func newSnapshotsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "snapshots", Short: "Inspect the Arrow snapshots the sensor writes"}
	var dir, cfgPath string
	snapDir := func() (string, error) {
		if dir != "" {
			return dir, nil
		}
		if cfgPath == "" {
			return "", usageError{errors.New("--dir or --config: one of them must name the snapshot directory")}
		}
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return "", err
		}
		return cfg.Snapshots.Dir, nil
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "snapshot directory (default: snapshots.dir of --config)")
	cmd.PersistentFlags().StringVar(&cfgPath, "config", "", "configuration file, for its snapshots.dir")
	cmd.AddCommand(&cobra.Command{
		Use:   "ls",
		Short: "List snapshot files: time, sensor, rows, size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := snapDir()
			if err != nil {
				return err
			}
			return analytics.PrintList(cmd.OutOrStdout(), d)
		},
	})
	var limit int
	show := &cobra.Command{
		Use:   "show FILE",
		Short: "Print a snapshot's metadata and its first rows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return analytics.Show(cmd.OutOrStdout(), args[0], limit)
		},
	}
	show.Flags().IntVar(&limit, "limit", 20, "rows to print; 0 prints all")
	cmd.AddCommand(show)
	return cmd
}
