package main

import (
	"errors"
	"os"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/internal/logging"
)

// globals are the flags every command shares.
type globals struct {
	logLevel  string
	logFormat string
	log       zerolog.Logger
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "rampart",
		Short:         "DDoS detection and mitigation sensor",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logging.New(os.Stderr, g.logLevel, g.logFormat)
			if err != nil {
				return usageError{err}
			}
			g.log = log
			return nil
		},
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", logging.FormatAuto, "auto (console on a TTY), json or console")
	root.AddCommand(newVersionCmd(), newConfigCmd(g), newSensorCmd(g), newReplayCmd(g), newSnapshotsCmd(g),
		newStatusCmd(g), newTopCmd(g), newAttacksCmd(g), newBanCmd(g), newUnbanCmd(g), newReloadCmd(g), newBGPCmd(g),
		newBaselineCmd())
	return root
}

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
