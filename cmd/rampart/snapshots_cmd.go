package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/internal/config"
)

func newSnapshotsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "snapshots", Short: "Inspect and compact the snapshots the sensor writes"}
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
	cmd.AddCommand(newSnapshotsCompactCmd(g, snapDir))
	return cmd
}

func newSnapshotsCompactCmd(g *globals, snapDir func() (string, error)) *cobra.Command {
	var opt analytics.CompactOptions
	c := &cobra.Command{
		Use:   "compact",
		Short: "Merge each complete hour's Arrow files into one Parquet file per sensor",
		Long: `Merges the Arrow IPC files of every complete hour into
DIR/dt=YYYY-MM-DD/hour=HH/<sensor>-<hour>.parquet (ZSTD, statistics, rows
sorted by timestamp then ip), for DuckDB, ClickHouse, Spark and Trino. The
hour being written and files younger than their interval are left alone.
Running it again changes nothing; Arrow files written into an hour after its
compaction are merged by rebuilding the hour's file. Readers (snapshots ls,
show, baseline) read Parquet and Arrow files alike and never count an
interval twice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := snapDir()
			if err != nil {
				return err
			}
			if opt.OlderThan < 0 {
				return usageError{fmt.Errorf("--older-than: must be >= 0, got %s", opt.OlderThan)}
			}
			res, err := analytics.Compact(g.log, d, opt)
			printCompact(cmd.OutOrStdout(), res)
			return err
		},
	}
	c.Flags().DurationVar(&opt.OlderThan, "older-than", 0, "only hours that ended at least this long ago")
	c.Flags().BoolVar(&opt.DeleteSource, "delete-source", false, "delete an hour's Arrow files once its Parquet file is written, synced and read back")
	c.Flags().BoolVar(&opt.DryRun, "dry-run", false, "print what would be done, change nothing")
	return c
}

func printCompact(w io.Writer, res []analytics.CompactResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOUR\tSENSOR\tACTION\tSOURCES\tINTERVALS\tROWS\tBYTES\tDELETED\tPATH")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", r.Hour.Format("2006-01-02T15Z"), r.Sensor, r.Action,
			r.Sources, r.Intervals, r.Rows, r.Bytes, r.Deleted, r.Path)
	}
	_ = tw.Flush()
}
