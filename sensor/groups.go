package sensor

import (
	"net/netip"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// Partition indexes of the aggregator, in the order partitions() builds them.
const (
	PartitionNetwork   = 0
	PartitionHostgroup = 1
)

// KeyAddr is the address a host key stands for (IPv4 unmapped).
func KeyAddr(k hosts.Key) netip.Addr { return netip.AddrFrom16(k).Unmap() }

// networkPartition groups hosts by monitored network, resolved once per
// host when the aggregator first sees it.
func networkPartition(networks []netip.Prefix) aggregate.Partition {
	names := make([]string, len(networks))
	for i, n := range networks {
		names[i] = n.String()
	}
	return aggregate.Partition{Name: "network", Groups: names, Of: func(k hosts.Key) int {
		return longestMatch(KeyAddr(k), networks)
	}}
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
