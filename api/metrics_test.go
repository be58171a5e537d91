package api

import (
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	f := newFake()
	ts := newTestServer(t, DefaultConfig(), f)
	code, body := call(t, ts, "GET", "/metrics", "", "")
	if code != 200 {
		t.Fatalf("code %d", code)
	}
	for _, want := range []string{
		"# TYPE rampart_queue_rx_packets_total counter",
		`rampart_queue_rx_packets_total{queue="0"} 10`,
		`rampart_queue_rx_packets_total{queue="1"} 20`,
		`rampart_queue_rx_missed_total{queue="0"} 1`,
		`rampart_queue_rx_errors_total{queue="0"} 2`,
		`rampart_queue_rx_nombuf_total{queue="0"} 3`,
		`rampart_worker_decode_errors_total{worker="0"} 4`,
		`rampart_worker_other_packets_total{worker="0"} 5`,
		`rampart_worker_flushes_skipped_total{worker="0"} 6`,
		"# TYPE rampart_aggregator_hosts gauge",
		"rampart_aggregator_hosts 7",
		"rampart_aggregator_ticks_late_total 8",
		"rampart_aggregator_hosts_dropped_total 9",
		"# TYPE rampart_attacks_active gauge",
		`rampart_attacks_active{type="syn_flood"} 2`,
		"rampart_attacks_detected_total 11",
		"rampart_mitigations_requested_total 12",
		"rampart_mitigations_refused_total 13",
		`rampart_bgp_session_established{peer="192.0.2.1"} 1`,
		`rampart_bgp_session_established{peer="192.0.2.2"} 0`,
		`rampart_bgp_session_state{peer="192.0.2.2",state="active"} 1`,
		`rampart_bgp_announcements_active{action="flowspec"} 3`,
		`rampart_bgp_requests_refused_total{reason="whitelisted"} 14`,
		`rampart_flow_datagrams_total{listener="0"} 15`,
		`rampart_flow_records_total{listener="0"} 16`,
		`rampart_flow_errors_total{listener="0"} 17`,
		`rampart_build_info{version="test"} 1`,
		"rampart_uptime_seconds 42",
		`rampart_worker_decode_errors_by_kind_total{kind="truncated",worker="0"} 3`,
		`rampart_worker_decode_errors_by_kind_total{kind="non_ip",worker="0"} 1`,
		`rampart_worker_busy_seconds_total{worker="0"} 1.5`,
		"# TYPE rampart_aggregator_tick_duration_seconds histogram",
		`rampart_aggregator_tick_duration_seconds_bucket{le="0.001"} 90`,
		`rampart_aggregator_tick_duration_seconds_bucket{le="0.01"} 98`,
		`rampart_aggregator_tick_duration_seconds_bucket{le="+Inf"} 100`,
		"rampart_aggregator_tick_duration_seconds_sum 0.5",
		"rampart_snapshots_taken_total 20",
		"rampart_snapshots_dropped_total 1",
		"rampart_snapshot_files_written_total 19",
		"rampart_snapshot_write_failures_total 1",
		"rampart_snapshot_last_write_seconds 0.25",
		"rampart_snapshot_rows 50",
		"rampart_learning_hosts 5",
		"rampart_learning_published_hosts 4",
		"rampart_learning_samples_total 600",
		"rampart_learning_skipped_watched_total 7",
		`rampart_config_reloads_total{result="ok"} 3`,
		`rampart_config_reloads_total{result="failed"} 1`,
		"rampart_config_last_reload_success_timestamp_seconds 1.767323046e+09",
		"# HELP rampart_queue_rx_missed_total Packets the NIC dropped",
	} {
		if !strings.Contains(body, want+"\n") && !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Counters end in _total and gauges do not: the types match the names.
	for line := range strings.Lines(body) {
		name, typ, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "# TYPE "), " ")
		if !ok || !strings.HasPrefix(line, "# TYPE rampart_") {
			continue
		}
		if (typ == "counter") != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %s", name, typ)
		}
	}
}

func TestMetricsWithoutBGP(t *testing.T) {
	f := newFake()
	f.status.BGP = nil
	ts := newTestServer(t, DefaultConfig(), f)
	_, body := call(t, ts, "GET", "/metrics", "", "")
	if strings.Contains(body, "rampart_bgp_") {
		t.Error("bgp metrics without a speaker")
	}
	if !strings.Contains(body, "rampart_aggregator_hosts 7") {
		t.Error("other metrics missing without a speaker")
	}
}
