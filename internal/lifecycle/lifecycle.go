// Package lifecycle starts components in order and stops them in reverse, so
// that nothing is stopped while something started after it still uses it.
package lifecycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
)

// Component is anything with the Start/Stop shape every package exposes.
type Component interface {
	Start(ctx context.Context) error
	Stop() error
}

// Named pairs a component with the name used in logs and errors.
type Named struct {
	Name string
	Component
}

// Run starts comps in order, waits until ctx is done or a component fails
// (failed receives at most one error from any component, e.g. a source that
// hit EOF or a worker that died), then stops every started component in
// reverse order. It returns the first failure and any stop errors; a nil
// received on failed is a component asking for a clean stop.
// running, if not nil, is called once everything has started.
func Run(ctx context.Context, log zerolog.Logger, comps []Named, failed <-chan error, running func()) error {
	var started []Named
	stopAll := func() error {
		var errs []error
		for i := len(started) - 1; i >= 0; i-- {
			c := started[i]
			if err := c.Stop(); err != nil {
				log.Error().Err(err).Str("component", c.Name).Msg("stop failed")
				errs = append(errs, fmt.Errorf("stop %s: %w", c.Name, err))
				continue
			}
			log.Debug().Str("component", c.Name).Msg("stopped")
		}
		return errors.Join(errs...)
	}
	for _, c := range comps {
		if err := c.Start(ctx); err != nil {
			return errors.Join(fmt.Errorf("start %s: %w", c.Name, err), stopAll())
		}
		log.Debug().Str("component", c.Name).Msg("started")
		started = append(started, c)
	}
	if running != nil {
		running()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-failed:
	}
	return errors.Join(runErr, stopAll())
}
