package detect

import (
	"slices"
	"time"
)

// Attack states.
const (
	StateDetected   = "detected"   // detected; no mitigation in force (action none, whitelisted, refused)
	StateMitigating = "mitigating" // a mitigation was requested and accepted
	StateEnded      = "ended"
)

// Who ended an attack, as in Mitigation.EndedBy.
const (
	EndedExpired  = "expired"  // calm for hold_time and min_ban_time passed (or max_ban_time)
	EndedManual   = "manual"   // Unban
	EndedShutdown = "shutdown" // Close
)

// Attack is one attack on (or from) one host in one direction, as reported
// by Attacks, the attack log, notifications and `rampart replay --json`.
// Times are packet time, RFC 3339 with nanoseconds in UTC; the *Ns fields
// carry the same instants as ns since the epoch for Go callers.
type Attack struct {
	ID        string `json:"id"`
	IP        string `json:"ip"`
	Direction string `json:"direction"` // "in": the host is the target; "out": the source
	Hostgroup string `json:"hostgroup"`
	Type      string `json:"type"` // of the first vector
	// Types lists the type of every vector, the first first: a multi-vector
	// attack adds one per vector its rules did not cover (see Vectors).
	Types      []string `json:"types"`
	State      string   `json:"state"`
	StartedAt  string   `json:"started_at"` // start of the first tick above threshold
	DetectedAt string   `json:"detected_at"`
	EndedAt    string   `json:"ended_at,omitempty"`
	// Trigger is the series furthest above its threshold at detection.
	Trigger      string  `json:"trigger"`
	Threshold    float64 `json:"threshold"` // of Trigger (bits/s for bps)
	PeakPPS      uint64  `json:"peak_pps"`  // highest tick rate during the attack
	PeakBPS      uint64  `json:"peak_bps"`
	PeakTrigger  uint64  `json:"peak_trigger"` // highest tick rate of Trigger
	Retriggers   int     `json:"retriggers"`
	Manual       bool    `json:"manual,omitempty"`
	ManualReason string  `json:"manual_reason,omitempty"`

	Fingerprint *Fingerprint `json:"fingerprint"` // of the first vector
	Mitigation  Mitigation   `json:"mitigation"`  // of the first vector, requested with ID
	Pcap        string       `json:"pcap,omitempty"`
	// Vectors are the vectors added while the attack went on, each with
	// its own request; all are withdrawn when the attack ends.
	Vectors []Vector `json:"vectors,omitempty"`

	StartedNs  int64 `json:"-"`
	DetectedNs int64 `json:"-"`
	EndedNs    int64 `json:"-"`
}

// Vector is a kind of traffic that joined an attack after its detection,
// over a threshold and not matched by the attack's rules.
type Vector struct {
	Type        string       `json:"type"`
	RequestID   string       `json:"request_id"` // Request.ID, as in Withdraw
	DetectedAt  string       `json:"detected_at"`
	Fingerprint *Fingerprint `json:"fingerprint"` // of the samples no earlier rule matched
	Mitigation  Mitigation   `json:"mitigation"`
	Pcap        string       `json:"pcap,omitempty"`
	DetectedNs  int64        `json:"-"`
}

// clone copies a, with slices of its own: the detector keeps changing the
// attack while callers read the copy.
func (a *Attack) clone() Attack {
	c := *a
	c.Types = slices.Clone(a.Types)
	c.Vectors = slices.Clone(a.Vectors)
	return c
}

// Mitigation is what was asked for an attack and how it ended.
type Mitigation struct {
	Action   string  `json:"action"` // flowspec, blackhole, redirect or none
	Rule     *Rule   `json:"rule,omitempty"`
	Prefix   string  `json:"prefix,omitempty"`   // blackhole or redirect
	Coverage float64 `json:"coverage,omitempty"` // share of samples the rule matches
	Reason   string  `json:"reason,omitempty"`   // e.g. "whitelisted", fallback to blackhole
	Error    string  `json:"error,omitempty"`    // the Mitigator refused
	EndedBy  string  `json:"ended_by,omitempty"` // expired, manual, shutdown
}

func timeText(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// Event is what notifications carry.
type Event struct {
	Event  string `json:"event"` // "start" or "end"
	Attack Attack `json:"attack"`
}

// Notification events.
const (
	EventStart = "start"
	EventEnd   = "end"
)
