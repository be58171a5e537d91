package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/rs/zerolog"
)

// webhook POSTs each event as JSON, retrying network errors, 429 and 5xx
// with doubling backoff. One worker: events go out in order.
type webhook struct {
	*queue
	cfg    WebhookConfig
	log    zerolog.Logger
	client *http.Client
}

func newWebhook(cfg WebhookConfig, log zerolog.Logger) *webhook {
	w := &webhook{cfg: cfg, log: log, client: &http.Client{Timeout: cfg.Timeout}}
	w.queue = newQueue(cfg.Queue, 1, cfg.Timeout, w.deliver)
	return w
}

func (w *webhook) deliver(ctx context.Context, e Event) bool {
	body, err := json.Marshal(e)
	if err != nil {
		w.log.Error().Err(err).Msg("webhook: encode event")
		return false
	}
	backoff := w.cfg.Backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			return true
		}
		if !retry || attempt >= w.cfg.Retries || !sleep(ctx, backoff) {
			w.log.Warn().Err(err).Str("id", e.Attack.ID).Str("event", e.Event).Int("attempts", attempt+1).Msg("webhook failed")
			return false
		}
		backoff *= 2
	}
}

// post sends body once; retry says whether another attempt may succeed.
func (w *webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("webhook: %s", resp.Status)
	}
	return false, fmt.Errorf("webhook: %s", resp.Status)
}
