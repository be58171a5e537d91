package api

import "time"

// Status is GET /api/v1/status and what /metrics reads.
type Status struct {
	Version       string          `json:"version"`
	StartedAt     time.Time       `json:"started_at"`
	UptimeSeconds float64         `json:"uptime_seconds"`
	Source        string          `json:"source"`
	Rates         Rates           `json:"rates"` // every monitored host, last window
	Queues        []QueueStats    `json:"queues"`
	Workers       []WorkerStats   `json:"workers"`
	Aggregator    AggregatorStats `json:"aggregator"`
	Detector      DetectorStats   `json:"detector"`
	BGP           *BGPStats       `json:"bgp,omitempty"` // nil: no BGP speaker
	Flows         []FlowStats     `json:"flows,omitempty"`
	Reloads       *ReloadStats    `json:"reloads,omitempty"`   // nil: no reloader
	Snapshots     *SnapshotStats  `json:"snapshots,omitempty"` // nil: snapshots off
	Learning      *LearningStats  `json:"learning,omitempty"`  // nil: no hostgroup learns
}

// LearningStats are the online learner's counters.
type LearningStats struct {
	Hosts                int     `json:"hosts"`     // with a model of their own
	Published            int     `json:"published"` // with a learned threshold in force
	Samples              uint64  `json:"samples"`   // host-seconds learned
	SkippedWatched       uint64  `json:"skipped_watched"`
	OverflowHosts        uint64  `json:"overflow_hosts"` // host-seconds past max_hosts
	LastRecomputeSeconds float64 `json:"last_recompute_seconds"`
}

// SnapshotStats are the snapshot collector's and writer's counters.
type SnapshotStats struct {
	Taken            uint64  `json:"taken"`   // handed to the writer
	Dropped          uint64  `json:"dropped"` // the writer was still busy: not taken
	Written          uint64  `json:"written"`
	Failed           uint64  `json:"failed"` // lost to write errors
	Bytes            uint64  `json:"bytes"`
	Removed          uint64  `json:"removed"` // files removed by retention
	Rows             uint64  `json:"rows"`    // in the last snapshot
	LastWriteSeconds float64 `json:"last_write_seconds"`
	LastCopySeconds  float64 `json:"last_copy_seconds"` // aggregator goroutine time of the last copy
}

// ReloadStats count configuration reloads.
type ReloadStats struct {
	OK          uint64    `json:"ok"`
	Failed      uint64    `json:"failed"`
	LastOK      time.Time `json:"last_ok,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastTrigger string    `json:"last_trigger,omitempty"`
}

// ReloadResult is the answer to POST /api/v1/config/reload.
type ReloadResult struct {
	Trigger string `json:"trigger"` // api, sighup, file
	// Applied are the settings now in force; RestartRequired are changed
	// sections only a restart applies (they are not applied).
	Applied         []string             `json:"applied"`
	RestartRequired []string             `json:"restart_required,omitempty"`
	ThresholdsFile  *ThresholdsFileState `json:"thresholds_file,omitempty"`
}

// ThresholdsFileState is what the last load of the thresholds file found.
type ThresholdsFileState struct {
	Path          string   `json:"path"`
	Loaded        bool     `json:"loaded"`
	Missing       bool     `json:"missing,omitempty"`
	Hosts         int      `json:"hosts"`
	Groups        int      `json:"groups"`
	UnknownGroups []string `json:"unknown_groups,omitempty"`
}

// Rates are per-second totals over every monitored host.
type Rates struct {
	In  DirRates `json:"in"`
	Out DirRates `json:"out"`
}

// DirRates are one direction's rates.
type DirRates struct {
	PPS   uint64 `json:"pps"`
	BPS   uint64 `json:"bps"`
	Flows uint64 `json:"flows"`
}

// QueueStats are one capture queue's counters.
type QueueStats struct {
	Queue   int    `json:"queue"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	Missed  uint64 `json:"missed"`
	Errors  uint64 `json:"errors"`
	NoMbuf  uint64 `json:"nombuf"`
}

// WorkerStats are what one worker counted.
type WorkerStats struct {
	Worker         int    `json:"worker"`
	Packets        uint64 `json:"packets"`
	Bytes          uint64 `json:"bytes"`
	OtherPackets   uint64 `json:"other_packets"`
	DecodeErrors   uint64 `json:"decode_errors"`
	HostsDropped   uint64 `json:"hosts_dropped"`
	FlushesSkipped uint64 `json:"flushes_skipped"`
	// DecodeErrorsByKind split DecodeErrors by reason (packet.ErrKind names).
	DecodeErrorsByKind map[string]uint64 `json:"decode_errors_by_kind,omitempty"`
	// BusySeconds is the time spent on received bursts; its rate is the
	// worker's busy share.
	BusySeconds float64 `json:"busy_seconds"`
}

// AggregatorStats are the host table's counters.
type AggregatorStats struct {
	Hosts        int    `json:"hosts"`
	TicksClosed  uint64 `json:"ticks_closed"`
	TicksLate    uint64 `json:"ticks_late"`
	HostsExpired uint64 `json:"hosts_expired"`
	HostsDropped uint64 `json:"hosts_dropped"`
	// TickDuration: how long closing a tick took, consumers included.
	TickDuration *Histogram `json:"tick_duration,omitempty"`
}

// Histogram has per-bucket counts (not cumulative): Counts[i] observations
// at or below Bounds[i] and above Bounds[i-1]; the last count is above every
// bound.
type Histogram struct {
	Bounds     []float64 `json:"bounds_seconds"`
	Counts     []uint64  `json:"counts"`
	SumSeconds float64   `json:"sum_seconds"`
	MaxSeconds float64   `json:"max_seconds"`
}

// DetectorStats are the detector's counters.
type DetectorStats struct {
	Active               map[string]int `json:"active"` // attacks by type
	Detected             uint64         `json:"detected"`
	Ended                uint64         `json:"ended"`
	MitigationsRequested uint64         `json:"mitigations_requested"`
	MitigationsRefused   uint64         `json:"mitigations_refused"`
	CommandsDropped      uint64         `json:"commands_dropped"`
}

// BGPStats are the speaker's sessions and counters.
type BGPStats struct {
	Sessions    map[string]string `json:"sessions"` // peer → state
	Active      map[string]int    `json:"active"`   // announcements by action
	Refused     map[string]uint64 `json:"refused"`  // requests by reason
	Announced   uint64            `json:"announced"`
	Withdrawn   uint64            `json:"withdrawn"`
	ApplyErrors uint64            `json:"apply_errors"`
	QueueDrops  uint64            `json:"queue_drops"`
}

// FlowStats are one flow listener's totals over its exporters.
type FlowStats struct {
	Listener  int    `json:"listener"`
	Exporters int    `json:"exporters"`
	Datagrams uint64 `json:"datagrams"`
	Records   uint64 `json:"records"`
	Errors    uint64 `json:"errors"`
	Rejected  uint64 `json:"rejected"`
}

// HostRow is one line of GET /api/v1/top: the host's rates in the asked
// direction.
type HostRow struct {
	IP        string `json:"ip"`
	Hostgroup string `json:"hostgroup"`
	Value     uint64 `json:"value"` // of the asked metric, per second
	PPS       uint64 `json:"pps"`
	BPS       uint64 `json:"bps"`
	FlowsPS   uint64 `json:"flows"`
}

// Top is GET /api/v1/top.
type Top struct {
	Metric    string    `json:"metric"`
	Direction string    `json:"direction"`
	Hosts     []HostRow `json:"hosts"`
}

// Host is GET /api/v1/hosts/{ip}.
type Host struct {
	IP        string    `json:"ip"`
	Hostgroup string    `json:"hostgroup"`
	LastSeen  time.Time `json:"last_seen"`
	In        HostDir   `json:"in"`
	Out       HostDir   `json:"out"`
}

// HostDir is one direction of a host: rates and peaks per series (per
// second, bits for bps), totals since first seen, and the thresholds in
// force (absent when the adapter knows none).
type HostDir struct {
	Rates      map[string]uint64  `json:"rates"`
	Peaks      map[string]uint64  `json:"peaks"`
	Packets    map[string]uint64  `json:"packets"` // totals by protocol metric
	Bytes      map[string]uint64  `json:"bytes"`
	Flows      uint64             `json:"flows"`
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
}

// Mitigation is one announcement in force, as in GET /api/v1/mitigations.
type Mitigation struct {
	ID        string    `json:"id"`
	Action    string    `json:"action"`
	NLRI      string    `json:"nlri"`
	Hostgroup string    `json:"hostgroup"`
	Since     time.Time `json:"since"`
	Expires   time.Time `json:"expires,omitzero"`
}

// Accepted is the answer to a ban or unban: queued for the detector's next
// tick.
type Accepted struct {
	Queued    bool   `json:"queued"`
	IP        string `json:"ip"`
	Direction string `json:"direction,omitempty"`
	Reason    string `json:"reason"`
	Duration  string `json:"duration,omitempty"`
}

// Error is every error answer's body.
type Error struct {
	Error string `json:"error"`
}
