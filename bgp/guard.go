package bgp

import (
	"fmt"
	"net/netip"
	"time"
)

// Reasons a request is refused, as in RefusedError.Reason and Stats.Refused.
const (
	ReasonInvalid     = "invalid"     // cannot become a path (bad rule, no next hop)
	ReasonOutsideOwn  = "outside-own" // not inside the own networks
	ReasonWhitelisted = "whitelisted" // overlaps a whitelisted prefix
	ReasonMaxActive   = "max-active"  // global or per-action cap reached
	ReasonRate        = "rate"        // over limits.max_per_second
	ReasonQueueFull   = "queue-full"  // the BGP worker is behind
	ReasonNotRunning  = "not-running" // before Start or after Stop
	ReasonUnknownID   = "unknown-id"  // Withdraw of an ID never announced
)

// RefusedError is a request the speaker will not carry out, and why.
type RefusedError struct {
	Reason string // one of the Reason constants
	Detail string
}

func (e *RefusedError) Error() string { return "bgp: refused (" + e.Reason + "): " + e.Detail }

func refuse(reason, format string, args ...any) *RefusedError {
	return &RefusedError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// guard holds the prefix guardrails: what may be announced at all.
type guard struct {
	own, whitelist []netip.Prefix
}

// check refuses an announcement unless one of its prefixes lies inside the
// own networks and none overlaps the whitelist. A FlowSpec rule protects
// its destination (attack on us) or its source (attack from us).
func (g *guard) check(a *announcement) *RefusedError {
	inside := false
	for _, p := range a.protected {
		if w, ok := overlap(p, g.whitelist); ok {
			return refuse(ReasonWhitelisted, "%s overlaps whitelisted %s", p, w)
		}
		if containedIn(p, g.own) {
			inside = true
		}
	}
	if !inside {
		return refuse(ReasonOutsideOwn, "%v not inside the own networks %v", a.protected, g.own)
	}
	return nil
}

func containedIn(p netip.Prefix, nets []netip.Prefix) bool {
	for _, n := range nets {
		if n.Bits() <= p.Bits() && n.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func overlap(p netip.Prefix, nets []netip.Prefix) (netip.Prefix, bool) {
	for _, n := range nets {
		if n.Overlaps(p) {
			return n, true
		}
	}
	return netip.Prefix{}, false
}

// bucket is a token bucket: rate tokens a second, at most burst saved.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate float64, now time.Time) bucket {
	burst := max(rate, 1)
	return bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take spends a token if one is there.
func (b *bucket) take(now time.Time) bool {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
