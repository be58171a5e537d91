package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"

	"github.com/rs/zerolog"
)

// execHook runs a program per event with its args, then the event, the IP and
// the attack type, and the event's JSON on stdin; at most Concurrency at once.
type execHook struct {
	*queue
	cfg ExecConfig
	log zerolog.Logger
}

func newExecHook(cfg ExecConfig, log zerolog.Logger) *execHook {
	h := &execHook{cfg: cfg, log: log}
	h.queue = newQueue(cfg.Queue, cfg.Concurrency, cfg.Timeout, h.deliver)
	return h
}

func (h *execHook) deliver(ctx context.Context, e Event) bool {
	body, err := json.Marshal(e)
	if err != nil {
		h.log.Error().Err(err).Msg("exec hook: encode event")
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	args := append(append([]string{}, h.cfg.Args...), e.Event, e.Attack.IP, e.Attack.Type)
	cmd := exec.CommandContext(ctx, h.cfg.Path, args...)
	cmd.Stdin = bytes.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		h.log.Warn().Err(err).Str("path", h.cfg.Path).Str("id", e.Attack.ID).Str("event", e.Event).
			Str("output", tail(out.Bytes(), 512)).Msg("exec hook failed")
		return false
	}
	return true
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
