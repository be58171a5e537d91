package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONAndLevel(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "warn", FormatAuto) // a buffer is no TTY: JSON
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("hidden")
	log.Warn().Str("port", "0000:01:00.0").Msg("link down")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("want exactly one JSON record, got %q: %v", buf.String(), err)
	}
	if rec["message"] != "link down" || rec["level"] != "warn" || rec["port"] != "0000:01:00.0" {
		t.Errorf("record = %v", rec)
	}
}

func TestBadArguments(t *testing.T) {
	for _, tc := range []struct{ level, format, want string }{
		{"loud", FormatJSON, `--log-level: must be one of trace, debug, info, warn, error, got "loud"`},
		{"", FormatJSON, `--log-level`},
		{"info", "xml", `--log-format: must be one of auto, json, console, got "xml"`},
	} {
		_, err := New(&bytes.Buffer{}, tc.level, tc.format)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q) error = %v, want %q", tc.level, tc.format, err, tc.want)
		}
	}
}

func TestConsole(t *testing.T) {
	var buf bytes.Buffer
	log, _ := New(&buf, "info", FormatConsole)
	log.Info().Int("workers", 2).Msg("sensor started")
	if out := buf.String(); !strings.Contains(out, "sensor started") || !strings.Contains(out, "workers=2") {
		t.Errorf("console output = %q", out)
	}
}
