package api

import (
	"net/netip"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
)

// StatusSource reports the counters of every component. Called per request
// and per scrape: it must only copy counters, never wait on the hot path.
type StatusSource interface {
	Status() Status
}

// HostSource reads the aggregator's host table.
type HostSource interface {
	// Top returns at most n hosts with the highest rate of s in direction d,
	// highest first.
	Top(s aggregate.Series, d aggregate.Dir, n int) []HostRow
	// Host reports one host, false if it is not tracked.
	Host(ip netip.Addr) (Host, bool)
}

// AttackSource lists active and recent attacks.
type AttackSource interface {
	Attacks() []detect.Attack
}

// Mitigator lists the mitigations in force and queues manual ones. Ban and
// Unban must not wait for the detector: they queue for its next tick.
type Mitigator interface {
	Mitigations() []Mitigation
	Ban(ip netip.Addr, d aggregate.Dir, reason string, dur time.Duration) error
	Unban(ip netip.Addr, reason string) error
}

// Reloader applies the reloadable part of the configuration file (and the
// thresholds file) to the running sensor. Nothing changes when it fails.
type Reloader interface {
	Reload(trigger string) (ReloadResult, error)
}

// Deps are what the server reads and acts on; every field but BGP and
// Reload is required.
type Deps struct {
	Status      StatusSource
	Hosts       HostSource
	Attacks     AttackSource
	Mitigations Mitigator
	BGP         BGPControl // nil: BGP is off, its endpoints answer 404
	Reload      Reloader   // nil: POST config/reload answers 404
}
