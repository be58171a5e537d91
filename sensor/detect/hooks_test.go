package detect

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rs/zerolog"
)

// runFlood runs one UDP flood that is detected at 2.2 s and ends at 4 s.
func runFlood(h *harness) {
	h.runTo(45, newTraffic("203.0.113.7", aggregate.In, 30_000, 2*sec, 2*sec+5e8, udpFlood, 1))
}

func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []Event
	fails := 1 // the first POST fails: the retry delivers it
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var e Event
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad body (%v) or content type %q", err, r.Header.Get("Content-Type"))
		}
		got = append(got, e)
	}))
	defer srv.Close()
	cfg := testConfig()
	cfg.Webhook.URL, cfg.Webhook.Backoff = srv.URL, time.Millisecond
	h := newHarness(t, cfg, nil)
	runFlood(h)
	h.det.Close() // drains the queue
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Event != EventStart || got[1].Event != EventEnd || got[1].Attack.IP != "203.0.113.7" || got[1].Attack.EndedAt == "" {
		t.Fatalf("events %+v, want start and end of the attack", got)
	}
	if st := h.det.Stats(); st.NotificationsSent != 2 || st.NotificationsFailed != 0 || st.NotificationsDropped != 0 {
		t.Errorf("stats %+v, want 2 sent", st)
	}
}

// A server that never answers does not hold up the detector: events beyond
// the queue are dropped and counted.
func TestWebhookHangs(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := testConfig()
	cfg.Webhook = WebhookConfig{URL: srv.URL, Timeout: 200 * time.Millisecond, Retries: 0, Queue: 1}
	d, err := New(cfg, Deps{Log: zerolog.Nop(), Thresholds: mustThresholds(t)})
	if err != nil {
		t.Fatal(err)
	}
	const events = 50
	done := make(chan struct{})
	go func() {
		for range events {
			d.notify(EventStart, &Attack{ID: "x"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("notify blocked on a hanging webhook")
	}
	d.Close()
	st := d.Stats()
	if st.NotificationsDropped < events-2 || st.NotificationsSent != 0 {
		t.Errorf("stats %+v: want at least %d dropped, none sent", st, events-2)
	}
}

func TestExecHook(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hook.sh")
	// Writes its stdin to <dir>/<event>-<ip>-<type>.json, named by its arguments.
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat > \"$1/$2-$3-$4.json\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Exec.Path, cfg.Exec.Args = script, []string{dir}
	h := newHarness(t, cfg, nil)
	runFlood(h)
	h.det.Close()
	for _, ev := range []string{EventStart, EventEnd} {
		b, err := os.ReadFile(filepath.Join(dir, ev+"-203.0.113.7-udp_flood.json"))
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil || e.Event != ev || e.Attack.Type != TypeUDPFlood {
			t.Errorf("%s: event %+v (%v)", ev, e, err)
		}
	}
	if st := h.det.Stats(); st.NotificationsSent != 2 {
		t.Errorf("NotificationsSent = %d, want 2", st.NotificationsSent)
	}
}

// The attack log has one line at the start (when asked) and one at the end.
func TestAttackLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attacks.jsonl")
	cfg := testConfig()
	cfg.AttackLog, cfg.AttackLogStart = path, true
	cfg.PcapDir = filepath.Join(t.TempDir(), "pcaps")
	h := newHarness(t, cfg, nil)
	runFlood(h)
	h.det.Close() // waits for the pcap writer
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["event"] != "start" || lines[1]["event"] != "end" {
		t.Fatalf("lines %v, want start and end", lines)
	}
	a := lines[1]["attack"].(map[string]any)
	for _, k := range []string{"id", "ip", "direction", "hostgroup", "type", "started_at", "detected_at", "ended_at", "peak_pps", "peak_bps", "fingerprint", "mitigation"} {
		if _, ok := a[k]; !ok {
			t.Errorf("end record lacks %q: %v", k, a)
		}
	}
	m := a["mitigation"].(map[string]any)
	rule := m["rule"].(map[string]any)
	if m["action"] != "flowspec" || m["ended_by"] != "expired" || rule["destination"] != "203.0.113.7/32" || rule["then"].(map[string]any)["action"] != "discard" {
		t.Errorf("mitigation %v", m)
	}
	if det, err := time.Parse(time.RFC3339Nano, a["detected_at"].(string)); err != nil || det.UnixNano() != 2*sec+2*tickNs {
		t.Errorf("detected_at %v (%v), want 2.2 s after the epoch", a["detected_at"], err)
	}
	if p := a["fingerprint"].(map[string]any); p["samples"].(float64) < 10 {
		t.Errorf("fingerprint %v", p)
	}
	if st, err := os.Stat(a["pcap"].(string)); err != nil || st.Size() <= 24 {
		t.Errorf("pcap %v: %v", a["pcap"], err)
	}
}

func mustThresholds(t *testing.T) *Thresholds {
	th, err := NewThresholds(testGroups(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return th
}
