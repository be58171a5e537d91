package bgp

import (
	"strings"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/rs/zerolog"
)

// gobgpLogger sends GoBGP's logs to zerolog. GoBGP's Info is chatty (every
// config step): it goes to debug; the speaker logs session changes itself.
type gobgpLogger struct{ log zerolog.Logger }

func (l gobgpLogger) emit(ev *zerolog.Event, msg string, f gobgplog.Fields) {
	ev.Fields(map[string]any(f)).Msg(strings.ToLower(msg))
}

// Panic panics as GoBGP expects.
func (l gobgpLogger) Panic(msg string, f gobgplog.Fields) {
	l.emit(l.log.Error(), msg, f)
	panic("gobgp: " + msg)
}

// Fatal only logs: a library must not exit the appliance.
func (l gobgpLogger) Fatal(msg string, f gobgplog.Fields) { l.emit(l.log.Error(), msg, f) }
func (l gobgpLogger) Error(msg string, f gobgplog.Fields) { l.emit(l.log.Error(), msg, f) }
func (l gobgpLogger) Warn(msg string, f gobgplog.Fields)  { l.emit(l.log.Warn(), msg, f) }
func (l gobgpLogger) Info(msg string, f gobgplog.Fields)  { l.emit(l.log.Debug(), msg, f) }
func (l gobgpLogger) Debug(msg string, f gobgplog.Fields) { l.emit(l.log.Trace(), msg, f) }

// SetLevel is ignored: zerolog's level rules.
func (l gobgpLogger) SetLevel(gobgplog.LogLevel) {}

// GetLevel tells GoBGP whether to build debug messages at all.
func (l gobgpLogger) GetLevel() gobgplog.LogLevel {
	if l.log.GetLevel() <= zerolog.TraceLevel {
		return gobgplog.DebugLevel
	}
	return gobgplog.InfoLevel
}
