package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/bgp"
	"github.com/rampartnet/rampart/internal/config"
	"github.com/rampartnet/rampart/internal/lifecycle"
	"github.com/rampartnet/rampart/sensor"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/sample"
	"github.com/rampartnet/rampart/sensor/snapshot"
)

func newSensorCmd(g *globals) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "sensor --config FILE",
		Short: "Run the sensor until SIGINT or SIGTERM (SIGHUP reloads the configuration)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			comps, failed, err := buildSensor(ctx, g.log, cfg, path)
			if err != nil {
				return err
			}
			g.log.Info().Str("sensor_id", cfg.SensorID).Str("version", version).Msg("sensor starting")
			err = lifecycle.Run(ctx, g.log, comps, failed, func() {
				g.log.Info().Int("components", len(comps)).Msg("sensor running")
			})
			if err != nil {
				g.log.Error().Err(err).Msg("sensor stopped with errors")
				return err
			}
			g.log.Info().Msg("sensor stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// buildSensor creates the components in start order — the BGP speaker
// before the sensor whose detector calls it, so it stops after — and the
// channel on which a component reports that the sensor must stop.
func buildSensor(_ context.Context, log zerolog.Logger, cfg *config.Config, path string) ([]lifecycle.Named, <-chan error, error) {
	var comps []lifecycle.Named
	var mit detect.Mitigator
	var sp *bgp.Speaker
	if cfg.BGP.Enabled || cfg.BGP.DryRun {
		var err error
		sp, err = bgp.New(log.With().Str("component", "bgp").Logger(), cfg.BGP, cfg.Networks, cfg.Whitelist)
		if err != nil {
			return nil, nil, err
		}
		comps = append(comps, lifecycle.Named{Name: "bgp", Component: sp})
		mit = sp
	}
	opts := sensor.Options{Log: log, SummaryEvery: 5 * time.Second, Mitigator: mit}
	var sn *sensor.Sensor
	var snapCol *snapshot.Collector
	var snapW *analytics.Writer
	if cfg.Snapshots.Enabled {
		// The collector copies the interval's rows on the aggregator goroutine
		// and hands them over without blocking; the writer, started before
		// the sensor and stopped after it, writes the Arrow files.
		col, err := snapshot.NewCollector(snapshot.Config{Interval: cfg.Snapshots.Interval, Partition: "hostgroup"}, cfg.Aggregate.Tick)
		if err != nil {
			return nil, nil, err
		}
		w, err := analytics.New(log.With().Str("component", "snapshots").Logger(), cfg.Snapshots, cfg.SensorID, col)
		if err != nil {
			return nil, nil, err
		}
		comps = append(comps, lifecycle.Named{Name: "snapshots", Component: w})
		snapCol, snapW = col, w
		opts.OnTick = func(t aggregate.Tick, _ *sample.Store) { col.OnTick(t, sn.Aggregator()) }
	}
	sn, err := sensor.New(cfg.Sensor(), opts)
	if err != nil {
		return nil, nil, err
	}
	failed := make(chan error, 1)
	go func() {
		err := <-sn.Done()
		if errors.Is(err, capture.ErrEOF) {
			err = nil // a finite source read to its end: a clean stop
		}
		failed <- err
	}()
	comps = append(comps, lifecycle.Named{Name: "sensor", Component: sn})
	// After the sensor: its detector exists once it started.
	rl := newReloader(log.With().Str("component", "reload").Logger(), path, cfg, sn, sp)
	comps = append(comps, lifecycle.Named{Name: "reload", Component: rl})
	if cfg.API.Enabled {
		as := newAPISensor(sn, sp, rl, cfg.Counters.IPv6PrefixLen)
		as.snapCol, as.snapW = snapCol, snapW
		srv, err := api.New(log.With().Str("component", "api").Logger(), cfg.API, as.deps())
		if err != nil {
			return nil, nil, err
		}
		comps = append(comps, lifecycle.Named{Name: "api", Component: srv})
	}
	return comps, failed, nil
}
