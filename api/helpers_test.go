package api

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
)

const testToken = "0123456789abcdef-token"

type banCall struct {
	ip     netip.Addr
	dir    aggregate.Dir
	reason string
	dur    time.Duration
	unban  bool
}

// fake serves canned data and records the bans it is asked for.
type fake struct {
	mu      sync.Mutex
	status  Status
	rows    []HostRow
	hosts   map[netip.Addr]Host
	attacks []detect.Attack
	mits    []Mitigation
	calls   []banCall
	fail    error // returned by Ban and Unban
	topArgs []any
	reloads []string // triggers
	rlErr   error    // returned by Reload
}

func (f *fake) Reload(trigger string) (ReloadResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rlErr != nil {
		return ReloadResult{}, f.rlErr
	}
	f.reloads = append(f.reloads, trigger)
	return ReloadResult{Trigger: trigger, Applied: []string{"hostgroups", "whitelist"}, RestartRequired: []string{"capture"}}, nil
}

func (f *fake) Status() Status { return f.status }

func (f *fake) Top(s aggregate.Series, d aggregate.Dir, n int) []HostRow {
	f.mu.Lock()
	f.topArgs = []any{s, d, n}
	f.mu.Unlock()
	return f.rows[:min(n, len(f.rows))]
}

func (f *fake) Host(ip netip.Addr) (Host, bool) { h, ok := f.hosts[ip]; return h, ok }
func (f *fake) Attacks() []detect.Attack        { return f.attacks }
func (f *fake) Mitigations() []Mitigation       { return f.mits }

func (f *fake) Ban(ip netip.Addr, d aggregate.Dir, reason string, dur time.Duration) error {
	if f.fail != nil {
		return f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, banCall{ip: ip, dir: d, reason: reason, dur: dur})
	return nil
}

func (f *fake) Unban(ip netip.Addr, reason string) error {
	if f.fail != nil {
		return f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, banCall{ip: ip, reason: reason, unban: true})
	return nil
}

func (f *fake) bans() []banCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]banCall(nil), f.calls...)
}

func newFake() *fake {
	return &fake{
		status: Status{
			Version: "test", StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UptimeSeconds: 42, Source: "pcap",
			Queues: []QueueStats{{Queue: 0, Packets: 10, Bytes: 1000, Missed: 1, Errors: 2, NoMbuf: 3}, {Queue: 1, Packets: 20, Bytes: 2000}},
			Workers: []WorkerStats{{Worker: 0, Packets: 10, Bytes: 1000, DecodeErrors: 4, OtherPackets: 5, FlushesSkipped: 6,
				DecodeErrorsByKind: map[string]uint64{"truncated": 3, "non_ip": 1}, BusySeconds: 1.5}},
			Aggregator: AggregatorStats{Hosts: 7, TicksClosed: 100, TicksLate: 8, HostsDropped: 9,
				TickDuration: &Histogram{Bounds: []float64{0.001, 0.01}, Counts: []uint64{90, 8, 2}, SumSeconds: 0.5, MaxSeconds: 0.2}},
			Snapshots: &SnapshotStats{Taken: 20, Dropped: 1, Written: 19, Failed: 1, Bytes: 4096, Removed: 2, Rows: 50, LastWriteSeconds: 0.25, LastCopySeconds: 0.002},
			Learning:  &LearningStats{Hosts: 5, Published: 4, Samples: 600, SkippedWatched: 7, OverflowHosts: 1, LastRecomputeSeconds: 0.01},
			Reloads:   &ReloadStats{OK: 3, Failed: 1, LastOK: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)},
			Detector:  DetectorStats{Active: map[string]int{"syn_flood": 2}, Detected: 11, MitigationsRequested: 12, MitigationsRefused: 13},
			BGP: &BGPStats{Sessions: map[string]string{"192.0.2.1": "established", "192.0.2.2": "active"},
				Active: map[string]int{"flowspec": 3}, Refused: map[string]uint64{"whitelisted": 14}},
			Flows: []FlowStats{{Listener: 0, Exporters: 2, Datagrams: 15, Records: 16, Errors: 17}},
		},
		rows: []HostRow{{IP: "192.0.2.10", Hostgroup: "web", Value: 900, PPS: 900, BPS: 7200}, {IP: "2001:db8::1", Value: 100, PPS: 100}},
		hosts: map[netip.Addr]Host{netip.MustParseAddr("192.0.2.10"): {IP: "192.0.2.10", Hostgroup: "web",
			In: HostDir{Rates: map[string]uint64{"pps": 900}}}},
		attacks: []detect.Attack{{ID: "a1", IP: "192.0.2.10", Direction: "in", Type: "syn_flood", State: detect.StateMitigating}},
		mits:    []Mitigation{{ID: "a1", Action: "flowspec", NLRI: "dst 192.0.2.10/32 proto tcp", Hostgroup: "web", Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
	}
}

func newTestServer(t *testing.T, cfg Config, f *fake) *httptest.Server {
	t.Helper()
	s, err := New(zerolog.Nop(), cfg, Deps{Status: f, Hosts: f, Attacks: f, Mitigations: f, Reload: f})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func tokenConfig() Config {
	c := DefaultConfig()
	c.Token = testToken
	return c
}

// call does one request and returns the status code and body.
func call(t *testing.T, ts *httptest.Server, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var errQueueFull = errors.New("detect: 64 commands already wait for the next tick")
