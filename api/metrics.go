package api

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// collector reads Status at scrape time: the counters live in the
// components, so nothing is kept twice and nothing is labelled per host.
type collector struct {
	src StatusSource
}

func newCollector(src StatusSource) *collector { return &collector{src: src} }

type metric struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func newMetric(name, help string, typ prometheus.ValueType, labels ...string) metric {
	return metric{prometheus.NewDesc("rampart_"+name, help, labels, nil), typ}
}

var (
	mInfo   = newMetric("build_info", "Build of the running sensor (always 1).", prometheus.GaugeValue, "version")
	mStart  = newMetric("start_time_seconds", "When the sensor started, seconds since the epoch.", prometheus.GaugeValue)
	mUptime = newMetric("uptime_seconds", "Seconds since the sensor started.", prometheus.GaugeValue)

	mQPackets = newMetric("queue_rx_packets_total", "Packets received per capture queue.", prometheus.CounterValue, "queue")
	mQBytes   = newMetric("queue_rx_bytes_total", "Bytes received per capture queue.", prometheus.CounterValue, "queue")
	mQMissed  = newMetric("queue_rx_missed_total", "Packets the NIC dropped for lack of room (imissed) per queue.", prometheus.CounterValue, "queue")
	mQErrors  = newMetric("queue_rx_errors_total", "Receive errors per capture queue.", prometheus.CounterValue, "queue")
	mQNoMbuf  = newMetric("queue_rx_nombuf_total", "Packets dropped for lack of buffers per queue.", prometheus.CounterValue, "queue")

	mWPackets = newMetric("worker_packets_total", "Frames a worker received.", prometheus.CounterValue, "worker")
	mWBytes   = newMetric("worker_bytes_total", "Bytes of frames a worker received.", prometheus.CounterValue, "worker")
	mWOther   = newMetric("worker_other_packets_total", "IP packets to and from no monitored network.", prometheus.CounterValue, "worker")
	mWDecode  = newMetric("worker_decode_errors_total", "Frames the decoder skipped, every kind.", prometheus.CounterValue, "worker")
	mWDropped = newMetric("worker_hosts_dropped_total", "Packets a full worker host table could not count per host.", prometheus.CounterValue, "worker")
	mWSkipped = newMetric("worker_flushes_skipped_total", "Tick ends with no free batch: counts carried to a later tick.", prometheus.CounterValue, "worker")
	mWKind    = newMetric("worker_decode_errors_by_kind_total", "Frames the decoder skipped, by reason.", prometheus.CounterValue, "worker", "kind")
	mWBusy    = newMetric("worker_busy_seconds_total", "Time a worker spent on received bursts; its rate is the busy share.", prometheus.CounterValue, "worker")

	mAHosts   = newMetric("aggregator_hosts", "Hosts tracked now.", prometheus.GaugeValue)
	mATicks   = newMetric("aggregator_ticks_closed_total", "Ticks closed.", prometheus.CounterValue)
	mALate    = newMetric("aggregator_ticks_late_total", "Ticks closed before every worker delivered them.", prometheus.CounterValue)
	mAExpired = newMetric("aggregator_hosts_expired_total", "Hosts removed after idle_expiry.", prometheus.CounterValue)
	mADropped = newMetric("aggregator_hosts_dropped_total", "New hosts not tracked: max_hosts reached.", prometheus.CounterValue)
	mATick    = newMetric("aggregator_tick_duration_seconds", "Time to close a tick, detector and snapshots included.", prometheus.UntypedValue)

	mSTaken   = newMetric("snapshots_taken_total", "Snapshots copied from the aggregator and handed to the writer.", prometheus.CounterValue)
	mSDropped = newMetric("snapshots_dropped_total", "Snapshots not taken because the writer was still busy.", prometheus.CounterValue)
	mSWritten = newMetric("snapshot_files_written_total", "Snapshot files written.", prometheus.CounterValue)
	mSFailed  = newMetric("snapshot_write_failures_total", "Snapshots lost to write errors.", prometheus.CounterValue)
	mSBytes   = newMetric("snapshot_bytes_written_total", "Bytes of snapshot files written.", prometheus.CounterValue)
	mSRemoved = newMetric("snapshot_files_removed_total", "Snapshot files removed by retention.", prometheus.CounterValue)
	mSRows    = newMetric("snapshot_rows", "Host rows in the last snapshot.", prometheus.GaugeValue)
	mSWrite   = newMetric("snapshot_last_write_seconds", "Time the last snapshot write took (encode, compress, sync, rename).", prometheus.GaugeValue)
	mSCopy    = newMetric("snapshot_last_copy_seconds", "Aggregator goroutine time the last snapshot copy took.", prometheus.GaugeValue)

	mLHosts     = newMetric("learning_hosts", "Hosts with a learned model of their own.", prometheus.GaugeValue)
	mLPublished = newMetric("learning_published_hosts", "Hosts with a learned threshold in force.", prometheus.GaugeValue)
	mLSamples   = newMetric("learning_samples_total", "Host-seconds learned.", prometheus.CounterValue)
	mLSkipped   = newMetric("learning_skipped_watched_total", "Host-seconds not learned: the detector tracked the host.", prometheus.CounterValue)
	mLOverflow  = newMetric("learning_overflow_total", "Host-seconds that taught only their group: max_hosts reached.", prometheus.CounterValue)
	mLRecompute = newMetric("learning_last_recompute_seconds", "Time the last republication of learned thresholds took.", prometheus.GaugeValue)

	mROK     = newMetric("config_reloads_total", "Configuration reloads by result.", prometheus.CounterValue, "result")
	mRLastOK = newMetric("config_last_reload_success_timestamp_seconds", "When the configuration was last reloaded, seconds since the epoch.", prometheus.GaugeValue)

	mDActive    = newMetric("attacks_active", "Attacks in progress by type.", prometheus.GaugeValue, "type")
	mDDetected  = newMetric("attacks_detected_total", "Attacks detected.", prometheus.CounterValue)
	mDEnded     = newMetric("attacks_ended_total", "Attacks ended.", prometheus.CounterValue)
	mDRequested = newMetric("mitigations_requested_total", "Mitigations the detector requested.", prometheus.CounterValue)
	mDRefused   = newMetric("mitigations_refused_total", "Mitigation requests refused.", prometheus.CounterValue)
	mDCmdDrops  = newMetric("detector_commands_dropped_total", "Manual bans and unbans refused: queue full.", prometheus.CounterValue)

	mBSession  = newMetric("bgp_session_state", "BGP session state per peer (1 for the current state).", prometheus.GaugeValue, "peer", "state")
	mBUp       = newMetric("bgp_session_established", "1 if the BGP session with the peer is established.", prometheus.GaugeValue, "peer")
	mBActive   = newMetric("bgp_announcements_active", "Announcements in force by action.", prometheus.GaugeValue, "action")
	mBRefused  = newMetric("bgp_requests_refused_total", "Mitigation requests the speaker refused, by reason.", prometheus.CounterValue, "reason")
	mBAnnounce = newMetric("bgp_announced_total", "Paths announced.", prometheus.CounterValue)
	mBWithdraw = newMetric("bgp_withdrawn_total", "Paths withdrawn.", prometheus.CounterValue)
	mBApplyErr = newMetric("bgp_apply_errors_total", "Paths GoBGP rejected.", prometheus.CounterValue)
	mBQDrops   = newMetric("bgp_queue_drops_total", "Requests refused because the queue was full.", prometheus.CounterValue)

	mFDatagrams = newMetric("flow_datagrams_total", "Flow datagrams received per listener.", prometheus.CounterValue, "listener")
	mFRecords   = newMetric("flow_records_total", "Flow records decoded per listener.", prometheus.CounterValue, "listener")
	mFErrors    = newMetric("flow_errors_total", "Flow datagrams (or their rest) dropped per listener.", prometheus.CounterValue, "listener")
	mFRejected  = newMetric("flow_rejected_total", "Datagrams from exporters beyond max_exporters per listener.", prometheus.CounterValue, "listener")
	mFExporters = newMetric("flow_exporters", "Exporters tracked per listener.", prometheus.GaugeValue, "listener")
)

var allMetrics = []metric{
	mInfo, mStart, mUptime,
	mQPackets, mQBytes, mQMissed, mQErrors, mQNoMbuf,
	mWPackets, mWBytes, mWOther, mWDecode, mWDropped, mWSkipped, mWKind, mWBusy,
	mAHosts, mATicks, mALate, mAExpired, mADropped, mATick,
	mROK, mRLastOK,
	mLHosts, mLPublished, mLSamples, mLSkipped, mLOverflow, mLRecompute,
	mSTaken, mSDropped, mSWritten, mSFailed, mSBytes, mSRemoved, mSRows, mSWrite, mSCopy,
	mDActive, mDDetected, mDEnded, mDRequested, mDRefused, mDCmdDrops,
	mBSession, mBUp, mBActive, mBRefused, mBAnnounce, mBWithdraw, mBApplyErr, mBQDrops,
	mFDatagrams, mFRecords, mFErrors, mFRejected, mFExporters,
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range allMetrics {
		ch <- m.desc
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Status()
	emit := func(m metric, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, v, labels...)
	}
	emit(mInfo, 1, st.Version)
	if !st.StartedAt.IsZero() {
		emit(mStart, float64(st.StartedAt.UnixNano())/1e9)
	}
	emit(mUptime, st.UptimeSeconds)
	for _, q := range st.Queues {
		l := strconv.Itoa(q.Queue)
		emit(mQPackets, float64(q.Packets), l)
		emit(mQBytes, float64(q.Bytes), l)
		emit(mQMissed, float64(q.Missed), l)
		emit(mQErrors, float64(q.Errors), l)
		emit(mQNoMbuf, float64(q.NoMbuf), l)
	}
	for _, w := range st.Workers {
		l := strconv.Itoa(w.Worker)
		emit(mWPackets, float64(w.Packets), l)
		emit(mWBytes, float64(w.Bytes), l)
		emit(mWOther, float64(w.OtherPackets), l)
		emit(mWDecode, float64(w.DecodeErrors), l)
		emit(mWDropped, float64(w.HostsDropped), l)
		emit(mWSkipped, float64(w.FlushesSkipped), l)
		for kind, n := range w.DecodeErrorsByKind {
			emit(mWKind, float64(n), l, kind)
		}
		emit(mWBusy, w.BusySeconds, l)
	}
	a := st.Aggregator
	emit(mAHosts, float64(a.Hosts))
	emit(mATicks, float64(a.TicksClosed))
	emit(mALate, float64(a.TicksLate))
	emit(mAExpired, float64(a.HostsExpired))
	emit(mADropped, float64(a.HostsDropped))
	if h := a.TickDuration; h != nil && len(h.Counts) == len(h.Bounds)+1 {
		buckets := make(map[float64]uint64, len(h.Bounds))
		var cum uint64
		for i, b := range h.Bounds {
			cum += h.Counts[i]
			buckets[b] = cum
		}
		ch <- prometheus.MustNewConstHistogram(mATick.desc, cum+h.Counts[len(h.Bounds)], h.SumSeconds, buckets)
	}
	if sn := st.Snapshots; sn != nil {
		emit(mSTaken, float64(sn.Taken))
		emit(mSDropped, float64(sn.Dropped))
		emit(mSWritten, float64(sn.Written))
		emit(mSFailed, float64(sn.Failed))
		emit(mSBytes, float64(sn.Bytes))
		emit(mSRemoved, float64(sn.Removed))
		emit(mSRows, float64(sn.Rows))
		emit(mSWrite, sn.LastWriteSeconds)
		emit(mSCopy, sn.LastCopySeconds)
	}
	if l := st.Learning; l != nil {
		emit(mLHosts, float64(l.Hosts))
		emit(mLPublished, float64(l.Published))
		emit(mLSamples, float64(l.Samples))
		emit(mLSkipped, float64(l.SkippedWatched))
		emit(mLOverflow, float64(l.OverflowHosts))
		emit(mLRecompute, l.LastRecomputeSeconds)
	}
	if r := st.Reloads; r != nil {
		emit(mROK, float64(r.OK), "ok")
		emit(mROK, float64(r.Failed), "failed")
		if !r.LastOK.IsZero() {
			emit(mRLastOK, float64(r.LastOK.UnixNano())/1e9)
		}
	}
	d := st.Detector
	for typ, n := range d.Active {
		emit(mDActive, float64(n), typ)
	}
	emit(mDDetected, float64(d.Detected))
	emit(mDEnded, float64(d.Ended))
	emit(mDRequested, float64(d.MitigationsRequested))
	emit(mDRefused, float64(d.MitigationsRefused))
	emit(mDCmdDrops, float64(d.CommandsDropped))
	if b := st.BGP; b != nil {
		for peer, state := range b.Sessions {
			emit(mBSession, 1, peer, state)
			up := 0.0
			if state == "established" {
				up = 1
			}
			emit(mBUp, up, peer)
		}
		for action, n := range b.Active {
			emit(mBActive, float64(n), action)
		}
		for reason, n := range b.Refused {
			emit(mBRefused, float64(n), reason)
		}
		emit(mBAnnounce, float64(b.Announced))
		emit(mBWithdraw, float64(b.Withdrawn))
		emit(mBApplyErr, float64(b.ApplyErrors))
		emit(mBQDrops, float64(b.QueueDrops))
	}
	for _, f := range st.Flows {
		l := strconv.Itoa(f.Listener)
		emit(mFDatagrams, float64(f.Datagrams), l)
		emit(mFRecords, float64(f.Records), l)
		emit(mFErrors, float64(f.Errors), l)
		emit(mFRejected, float64(f.Rejected), l)
		emit(mFExporters, float64(f.Exporters), l)
	}
}
