package detect

import (
	"net/netip"
	"slices"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

// fileEntry is one direction of a host's entry in a thresholds file: the
// limits it names (set) and their values.
type fileEntry struct {
	lim Limits
	set uint16 // bit s: the file names series s
}

// fileLimits are the host entries of a thresholds file as learned limits.
// A lookup per visited host per tick: a map hit or miss of ~30 ns.
type fileLimits map[hosts.Key]*[aggregate.NumDirs]fileEntry

func (f fileLimits) Override(key hosts.Key, _ int, d aggregate.Dir, l *Limits) {
	e := f[key]
	if e == nil {
		return
	}
	for s := range aggregate.NumSeries {
		if e[d].set&(1<<s) != 0 {
			l[s] = e[d].lim[s]
		}
	}
}

// chain asks each Learned in turn; a later one overrides an earlier one.
type chain []Learned

func (c chain) Override(key hosts.Key, g int, d aggregate.Dir, l *Limits) {
	for _, x := range c {
		x.Override(key, g, d, l)
	}
}

// ThresholdsWithFile compiles hostgroups with a thresholds file over them
// (f may be nil): the file's group entries replace the groups' limits key by
// key, its host entries replace a host's limits key by key. IPv6 hosts are
// keyed at the host tables' granularity prefixLen6 (64 or 128). online, if
// not nil, overrides both. Groups the file names that the configuration
// lacks are returned, not applied.
func ThresholdsWithFile(groups []hostgroup.Config, f *thresholdfile.File, prefixLen6 int, online Learned) (*Thresholds, []string, error) {
	var learned chain
	var unknown []string
	if f != nil {
		groups = slices.Clone(groups)
		for name, ft := range f.Groups {
			i := slices.IndexFunc(groups, func(g hostgroup.Config) bool { return g.Name == name })
			if i < 0 && name == hostgroup.DefaultName {
				groups = append(groups, hostgroup.Default())
				i = len(groups) - 1
			}
			if i < 0 {
				unknown = append(unknown, name)
				continue
			}
			groups[i].Thresholds.In = overlay(groups[i].Thresholds.In, ft.In)
			groups[i].Thresholds.Out = overlay(groups[i].Thresholds.Out, ft.Out)
		}
		slices.Sort(unknown)
		if len(f.Addrs()) > 0 {
			learned = append(learned, compileHosts(f.Addrs(), prefixLen6))
		}
	}
	if online != nil {
		learned = append(learned, online)
	}
	var l Learned
	switch len(learned) {
	case 0:
	case 1:
		l = learned[0]
	default:
		l = learned
	}
	th, err := NewThresholds(groups, l)
	return th, unknown, err
}

// overlay is base with every limit that top sets replaced.
func overlay(base, top hostgroup.Limits) hostgroup.Limits {
	for _, p := range []struct {
		dst **float64
		src *float64
	}{
		{&base.PPS, top.PPS}, {&base.Mbps, top.Mbps}, {&base.Flows, top.Flows},
		{&base.TCPPPS, top.TCPPPS}, {&base.SYNPPS, top.SYNPPS}, {&base.UDPPPS, top.UDPPPS},
		{&base.ICMPPPS, top.ICMPPPS}, {&base.FragPPS, top.FragPPS},
	} {
		if p.src != nil {
			*p.dst = p.src
		}
	}
	return base
}

func compileHosts(addrs map[netip.Addr]hostgroup.Thresholds, prefixLen6 int) fileLimits {
	out := make(fileLimits, len(addrs))
	for a, t := range addrs {
		if a.Is6() && prefixLen6 == 64 {
			a = netip.PrefixFrom(a, 64).Masked().Addr()
		}
		e := &[aggregate.NumDirs]fileEntry{compileEntry(&t.In), compileEntry(&t.Out)}
		out[KeyOf(a)] = e
	}
	return out
}

func compileEntry(l *hostgroup.Limits) fileEntry {
	e := fileEntry{lim: compile(l)}
	for s := range aggregate.NumSeries {
		if e.lim[s] != Off {
			e.set |= 1 << s
		}
	}
	return e
}
