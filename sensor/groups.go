package sensor

import (
	"net/netip"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// Partition indexes of the aggregator, in the order partitions() builds them.
const (
	PartitionNetwork   = 0
	PartitionHostgroup = 1
)

// KeyAddr is the address a host key stands for (IPv4 unmapped).
func KeyAddr(k hosts.Key) netip.Addr { return netip.AddrFrom16(k).Unmap() }

// partitions groups hosts by monitored network and by hostgroup, so the
// aggregator keeps totals and rates per network and per group. Both are
// resolved once per host, when the aggregator first sees it: a linear
// longest-prefix match over the configured prefixes is cheap enough there.
func partitions(networks []netip.Prefix, groups []hostgroup.Config) []aggregate.Partition {
	netNames := make([]string, len(networks))
	for i, n := range networks {
		netNames[i] = n.String()
	}
	groupNames := make([]string, len(groups))
	def := -1
	for i, g := range groups {
		groupNames[i] = g.Name
		if g.Name == hostgroup.DefaultName {
			def = i
		}
	}
	return []aggregate.Partition{
		{Name: "network", Groups: netNames, Of: func(k hosts.Key) int {
			return longestMatch(KeyAddr(k), networks)
		}},
		{Name: "hostgroup", Groups: groupNames, Of: func(k hosts.Key) int {
			a := KeyAddr(k)
			best, bestBits := def, -1
			for i, g := range groups {
				for _, p := range g.Prefixes {
					if p.Bits() > bestBits && p.Contains(a) {
						best, bestBits = i, p.Bits()
					}
				}
			}
			return best
		}},
	}
}

// longestMatch is the index of the longest prefix containing a, or -1.
func longestMatch(a netip.Addr, prefixes []netip.Prefix) int {
	best, bestBits := -1, -1
	for i, p := range prefixes {
		if p.Bits() > bestBits && p.Contains(a) {
			best, bestBits = i, p.Bits()
		}
	}
	return best
}
