package detect

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/gaissmai/bart"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// Off is a threshold that is never exceeded.
const Off = math.MaxUint64

// Limits are a host's thresholds in one direction, in the units of
// aggregate.HostView rates (bits/s for BPS). A rate above its limit is over.
type Limits [aggregate.NumSeries]uint64

// Learned supplies per-host thresholds (from the baseline) that replace the
// hostgroup's. Override sets the entries of l it has learned for key (of
// hostgroup g) in direction d and leaves the others. It runs on the detector
// goroutine for every host with traffic in a tick, so it must be cheap and
// must not block; the API calls it too, from other goroutines.
type Learned interface {
	Override(key hosts.Key, g int, d aggregate.Dir, l *Limits)
}

type group struct {
	name    string
	action  string
	learned bool // thresholds_mode learned
	lim     [aggregate.NumDirs]Limits
	floor   [aggregate.NumDirs]uint64 // a host at or below this pps is over no limit
}

// Thresholds resolves a host to its hostgroup by longest prefix match and
// to its effective limits.
type Thresholds struct {
	groups   []group
	def      int
	table    bart.Table[int]
	learned  Learned
	prefixes [][]netip.Prefix // per group, as configured
}

// packetSeries are the packet-rate series; each is at most PPS.
var packetSeries = [...]aggregate.Series{aggregate.PPS, aggregate.TCPPPS, aggregate.SYNPPS, aggregate.UDPPPS, aggregate.ICMPPPS, aggregate.FragPPS}

// NewThresholds compiles validated hostgroups; without a "default" group the
// built-in one holds every other host. learned may be nil.
func NewThresholds(groups []hostgroup.Config, learned Learned) (*Thresholds, error) {
	t := &Thresholds{def: -1, learned: learned}
	for i, g := range groups {
		if g.Name == hostgroup.DefaultName {
			t.def = i
		}
		cg := group{name: g.Name, action: g.Action, learned: g.ThresholdsMode == hostgroup.ModeLearned}
		if cg.action == "" {
			cg.action = hostgroup.ActionFlowSpec
		}
		cg.lim[aggregate.In] = compile(&g.Thresholds.In)
		cg.lim[aggregate.Out] = compile(&g.Thresholds.Out)
		t.groups = append(t.groups, cg)
		t.prefixes = append(t.prefixes, g.Prefixes)
		for _, pfx := range g.Prefixes {
			if !pfx.IsValid() {
				return nil, fmt.Errorf("detect: hostgroup %q: invalid prefix %s", g.Name, pfx)
			}
			t.table.Insert(pfx.Masked(), i)
		}
	}
	if t.def < 0 {
		d := hostgroup.Default()
		t.def = len(t.groups)
		t.groups = append(t.groups, group{name: d.Name, action: d.Action,
			lim: [aggregate.NumDirs]Limits{compile(&d.Thresholds.In), compile(&d.Thresholds.Out)}})
		t.prefixes = append(t.prefixes, nil)
	}
	for i := range t.groups {
		for d := range aggregate.NumDirs {
			t.groups[i].floor[d] = floor(&t.groups[i].lim[d])
		}
	}
	return t, nil
}

// maxPacketBits is the largest IP packet in bits: bps <= pps * maxPacketBits.
const maxPacketBits = 65535 * 8

// floor is the pps at or below which no rate can be over l: every packet
// series is at most pps, new flows at most packets, and bits at most pps
// times the largest packet. Most hosts stop at this one comparison.
func floor(l *Limits) uint64 {
	f := min(l[aggregate.FlowsPS], l[aggregate.BPS]/maxPacketBits)
	for _, s := range packetSeries {
		f = min(f, l[s])
	}
	return f
}

// compile turns configured limits into integer thresholds: an integer rate is
// above v exactly when it is above floor(v).
func compile(l *hostgroup.Limits) Limits {
	var out Limits
	set := func(s aggregate.Series, v *float64, scale float64) {
		out[s] = Off
		if v != nil {
			out[s] = uint64(math.Floor(*v * scale))
		}
	}
	set(aggregate.PPS, l.PPS, 1)
	set(aggregate.BPS, l.Mbps, 1e6)
	set(aggregate.FlowsPS, l.Flows, 1)
	set(aggregate.TCPPPS, l.TCPPPS, 1)
	set(aggregate.SYNPPS, l.SYNPPS, 1)
	set(aggregate.UDPPPS, l.UDPPPS, 1)
	set(aggregate.ICMPPPS, l.ICMPPPS, 1)
	set(aggregate.FragPPS, l.FragPPS, 1)
	return out
}

// GroupOf is the index of the hostgroup holding key.
func (t *Thresholds) GroupOf(key hosts.Key) int {
	if g, ok := t.table.Lookup(addrOf(key)); ok {
		return g
	}
	return t.def
}

// GroupName is the name of group g.
func (t *Thresholds) GroupName(g int) string { return t.groups[g].name }

// NumGroups is how many groups there are, the built-in default included.
func (t *Thresholds) NumGroups() int { return len(t.groups) }

// LearnedMode reports that group g learns its thresholds online.
func (t *Thresholds) LearnedMode(g int) bool { return t.groups[g].learned }

// GroupLimits are group g's configured limits in direction d (a thresholds
// file's group entries included, host entries and learning not).
func (t *Thresholds) GroupLimits(g int, d aggregate.Dir) Limits { return t.groups[g].lim[d] }

// Action is the mitigation action of group g (hostgroup.Action*).
func (t *Thresholds) Action(g int) string { return t.groups[g].action }

// Limits are key's effective limits in direction d: learned ones first, then
// those of its group g.
func (t *Thresholds) Limits(key hosts.Key, g int, d aggregate.Dir) Limits {
	l := t.groups[g].lim[d]
	if t.learned != nil {
		t.learned.Override(key, g, d, &l)
	}
	return l
}

// Partition lets the aggregator cache each host's group (HostView.Group),
// so a tick does not repeat the prefix lookup for every host.
func (t *Thresholds) Partition() aggregate.Partition {
	names := make([]string, len(t.groups))
	for i, g := range t.groups {
		names[i] = g.name
	}
	return aggregate.Partition{Name: "hostgroup", Groups: names, Of: t.GroupOf}
}

// addrOf is the address of a host key (IPv4 unmapped).
func addrOf(k hosts.Key) netip.Addr { return netip.AddrFrom16(k).Unmap() }

// KeyOf is the host key of an address.
func KeyOf(a netip.Addr) hosts.Key { return hosts.Key(a.As16()) }

// hostPrefix is the prefix that a key stands for: /32, or /128 or /64 by the
// IPv6 granularity of the host tables.
func hostPrefix(k hosts.Key, prefixLen6 int) netip.Prefix {
	a := addrOf(k)
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	return netip.PrefixFrom(a, prefixLen6)
}
