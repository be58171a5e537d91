package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/analytics/baselinerun"
	"github.com/rampartnet/rampart/internal/atomicfile"
	"github.com/rampartnet/rampart/internal/config"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

// baselineFlags are the flags every baseline command shares.
type baselineFlags struct {
	cfgPath, dir, since, group, thresholds, format, out string
}

func (f *baselineFlags) register(cmd *cobra.Command, formats string) {
	cmd.Flags().StringVar(&f.cfgPath, "config", "", "sensor configuration: hostgroups, static thresholds, baseline section (required)")
	cmd.Flags().StringVar(&f.dir, "snapshots", "", "snapshot directory (default: snapshots.dir of --config)")
	cmd.Flags().StringVar(&f.since, "since", "", "only the history this long before the newest snapshot, e.g. 7d, 36h (default: all)")
	cmd.Flags().StringVar(&f.group, "group", "", "only the hosts of this hostgroup")
	cmd.Flags().StringVar(&f.thresholds, "thresholds", "", "learned thresholds in force (a file tune wrote): they replace the static ones")
	if formats != "" {
		cmd.Flags().StringVar(&f.format, "format", "table", formats)
	}
}

// parseSince reads a Go duration or a number of days ("7d").
func parseSince(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		n, err = strconv.ParseFloat(days, 64)
		d = time.Duration(n * float64(24*time.Hour))
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, usageError{fmt.Errorf("--since: must be a positive duration such as 7d or 36h, got %q", s)}
	}
	return d, nil
}

// open loads the configuration and fits the history.
func (f *baselineFlags) open(cmd *cobra.Command) (*baselinerun.Run, error) {
	if f.cfgPath == "" {
		return nil, usageError{errors.New("--config: required (hostgroups, static thresholds and the baseline section)")}
	}
	since, err := parseSince(f.since)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(f.cfgPath)
	if err != nil {
		return nil, err
	}
	dir := f.dir
	if dir == "" {
		dir = cfg.Snapshots.Dir
	}
	opts := baselinerun.Options{Dir: dir, Since: since, Group: f.group, Hostgroups: cfg.Hostgroups, Baseline: cfg.Baseline}
	if f.thresholds != "" {
		if opts.Current, err = thresholdfile.Load(f.thresholds); err != nil {
			return nil, err
		}
	}
	if file, ok := cmd.ErrOrStderr().(*os.File); ok && isatty.IsTerminal(file.Fd()) {
		bar := &progressBar{w: file, label: "reading " + dir}
		opts.Progress = bar.set
		defer bar.done()
	}
	// Each snapshot is decoded into fresh memory and dropped at once, while
	// the models stay small: collect less often.
	debug.SetGCPercent(400)
	r, err := baselinerun.New(opts)
	if err != nil {
		return nil, usageError{err}
	}
	if err := r.FitHistory(); err != nil {
		return nil, err
	}
	return r, nil
}

// progressBar draws one line on a terminal, redrawn at each whole percent.
type progressBar struct {
	w     io.Writer
	label string
	pct   int
	drawn bool
}

func (b *progressBar) set(done float64) {
	pct := int(done * 100)
	if b.drawn && pct == b.pct {
		return
	}
	b.pct, b.drawn = pct, true
	const width = 30
	fill := pct * width / 100
	fmt.Fprintf(b.w, "\r%s [%s%s] %3d%%", b.label, strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct)
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

// output is --out or stdout.
func output(cmd *cobra.Command, path string, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(cmd.OutOrStdout())
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		// A device or pipe (/dev/null, a FIFO): no rename over it.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return atomicfile.Write(path, atomicfile.Options{}, write)
}

func newBaselineCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "baseline", Short: "Learn thresholds from the snapshot history: report, what-if, tune"}
	cmd.AddCommand(newBaselineReportCmd(), newBaselineWhatIfCmd(), newBaselineTuneCmd())
	return cmd
}

func newBaselineReportCmd() *cobra.Command {
	var f baselineFlags
	var hosts int
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Per host and hostgroup: quantiles of the peaks, current and recommended thresholds, headroom",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.format != "table" && f.format != "json" && f.format != "html" {
				return usageError{fmt.Errorf("--format: must be table, json or html, got %q", f.format)}
			}
			r, err := f.open(cmd)
			if err != nil {
				return err
			}
			rep := r.Report()
			return output(cmd, f.out, func(w io.Writer) error {
				switch f.format {
				case "json":
					return rep.WriteJSON(w)
				case "html":
					return r.WriteHTML(w, rep, hosts)
				}
				return rep.WriteTable(w)
			})
		},
	}
	f.register(cmd, "table, json or html (a page with a chart per host: its history against its thresholds)")
	cmd.Flags().StringVar(&f.out, "out", "", "write to this file instead of stdout")
	cmd.Flags().IntVar(&hosts, "hosts", 20, "html: chart this many hosts, those with the least headroom first")
	return cmd
}

func newBaselineWhatIfCmd() *cobra.Command {
	var f baselineFlags
	var specs []string
	var top int
	cmd := &cobra.Command{
		Use:   "whatif",
		Short: "For candidate settings: alerts and hosts that would have fired over the history, attacks caught",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.format != "table" && f.format != "json" {
				return usageError{fmt.Errorf("--format: must be table or json, got %q", f.format)}
			}
			cands := baselinerun.DefaultCandidates()
			if len(specs) > 0 {
				cands = cands[:0]
				for _, s := range specs {
					c, err := baselinerun.ParseCandidate(s)
					if err != nil {
						return usageError{fmt.Errorf("--candidate: %w", err)}
					}
					cands = append(cands, c)
				}
			}
			r, err := f.open(cmd)
			if err != nil {
				return err
			}
			outs, _, err := r.WhatIf(cands, top)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return baselinerun.WriteWhatIfJSON(cmd.OutOrStdout(), outs)
			}
			return baselinerun.WriteWhatIfTable(cmd.OutOrStdout(), outs)
		},
	}
	f.register(cmd, "table or json")
	cmd.Flags().StringArrayVar(&specs, "candidate", nil, "a setting to try, e.g. 'quantile=0.999,k=4,floor.pps=5000' (repeatable; default: the configured one and quantile 0.99/0.999 × k 2/3/5)")
	cmd.Flags().IntVar(&top, "top", 10, "hosts listed per candidate, most alerts first")
	return cmd
}

func newBaselineTuneCmd() *cobra.Command {
	var f baselineFlags
	var previous string
	cmd := &cobra.Command{
		Use:   "tune",
		Short: "Write the recommended thresholds as a thresholds file the sensor loads",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.out == "" {
				return usageError{errors.New("--out: required, e.g. /etc/rampart/thresholds.yaml")}
			}
			// Learned thresholds move by at most max_change per tune from
			// the previous file's: by default the one being replaced.
			if previous == "" {
				if _, err := os.Stat(f.out); err == nil {
					previous = f.out
				}
			}
			if previous != "" && previous != "none" && f.thresholds == "" {
				f.thresholds = previous
			}
			r, err := f.open(cmd)
			if err != nil {
				return err
			}
			rep := r.Report()
			abs, _ := filepath.Abs(rep.Dir)
			doc := rep.Tune(fmt.Sprintf("rampart baseline tune: %s, %s .. %s, %d intervals",
				abs, rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Intervals))
			if f.group != "" {
				rep.KeepOthers(doc, r.Current())
			}
			data, err := doc.Marshal()
			if err != nil {
				return err
			}
			if err := output(cmd, f.out, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d hostgroups, %d hosts\n", f.out, len(doc.Groups), len(doc.Hosts))
			return nil
		},
	}
	f.register(cmd, "")
	cmd.Flags().StringVar(&f.out, "out", "", "thresholds file to write (atomically; the sensor reloads it)")
	cmd.Flags().StringVar(&previous, "previous", "", "thresholds file to limit the change against (default: --out if it exists; none: no limit)")
	return cmd
}
