// Package logging sets up zerolog the same way for every command: JSON for
// machines, a console writer when a person is watching.
package logging

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// Formats accepted by New.
const (
	FormatAuto    = "auto" // console on a TTY, JSON otherwise
	FormatJSON    = "json"
	FormatConsole = "console"
)

// New returns a logger writing to w at level ("debug", "info", ...).
func New(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("--log-level: must be one of trace, debug, info, warn, error, got %q", level)
	}
	switch format {
	case FormatAuto:
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
		}
	case FormatConsole:
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: true}
	case FormatJSON:
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format: must be one of auto, json, console, got %q", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
