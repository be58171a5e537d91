package bgp

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rampartnet/rampart/sensor/detect"
)

// flowSpecNLRI maps a detector rule to a FlowSpec NLRI (RFC 8955 for IPv4,
// RFC 8956 for IPv6). The family follows the destination, else the source.
func flowSpecNLRI(r *detect.Rule) (bgp.AddrPrefixInterface, error) {
	if r == nil {
		return nil, errors.New("flowspec request without a rule")
	}
	dst, src := r.Destination, r.Source
	var v6 bool
	switch {
	case dst.IsValid():
		v6 = dst.Addr().Is6()
	case src.IsValid():
		v6 = src.Addr().Is6()
	default:
		return nil, errors.New("rule has no destination or source prefix: it would match all traffic")
	}
	if dst.IsValid() && src.IsValid() && dst.Addr().Is6() != src.Addr().Is6() {
		return nil, fmt.Errorf("rule mixes address families: destination %s, source %s", dst, src)
	}
	var cs []bgp.FlowSpecComponentInterface
	if dst.IsValid() {
		cs = append(cs, prefixComponent(dst.Masked(), true, v6))
	}
	if src.IsValid() {
		cs = append(cs, prefixComponent(src.Masked(), false, v6))
	}
	if len(r.Protocols) > 0 {
		items := make([]*bgp.FlowSpecComponentItem, len(r.Protocols))
		for i, p := range r.Protocols {
			items[i] = bgp.NewFlowSpecComponentItem(bgp.DEC_NUM_OP_EQ, uint64(p))
		}
		cs = append(cs, bgp.NewFlowSpecComponent(bgp.FLOW_SPEC_TYPE_IP_PROTO, items))
	}
	for _, ports := range []struct {
		typ bgp.BGPFlowSpecType
		rs  []detect.PortRange
	}{{bgp.FLOW_SPEC_TYPE_DST_PORT, r.DestinationPorts}, {bgp.FLOW_SPEC_TYPE_SRC_PORT, r.SourcePorts}} {
		if len(ports.rs) == 0 {
			continue
		}
		var items []*bgp.FlowSpecComponentItem
		for _, pr := range ports.rs {
			if pr.From > pr.To {
				return nil, fmt.Errorf("%s range %d..%d is empty", ports.typ, pr.From, pr.To)
			}
			items = append(items, rangeItems(uint64(pr.From), uint64(pr.To))...)
		}
		cs = append(cs, bgp.NewFlowSpecComponent(ports.typ, items))
	}
	if f := r.TCPFlags; f != nil {
		if f.Bits&^f.Mask != 0 {
			return nil, fmt.Errorf("tcp flags %#x set outside mask %#x", f.Bits, f.Mask)
		}
		cs = append(cs, bgp.NewFlowSpecComponent(bgp.FLOW_SPEC_TYPE_TCP_FLAG, flagItems(f.Bits, f.Mask)))
	}
	if l := r.PacketLength; l != nil {
		if l.From > l.To {
			return nil, fmt.Errorf("packet length range %d..%d is empty", l.From, l.To)
		}
		cs = append(cs, bgp.NewFlowSpecComponent(bgp.FLOW_SPEC_TYPE_PKT_LEN, rangeItems(uint64(l.From), uint64(l.To))))
	}
	switch r.Fragment {
	case detect.FragAny:
	case detect.FragIs:
		cs = append(cs, fragComponent(bgp.FRAG_FLAG_IS))
	case detect.FragFirst:
		cs = append(cs, fragComponent(bgp.FRAG_FLAG_FIRST))
	default:
		return nil, fmt.Errorf("fragment must be %q, %q or empty, got %q", detect.FragIs, detect.FragFirst, r.Fragment)
	}
	if v6 {
		return bgp.NewFlowSpecIPv6Unicast(cs), nil
	}
	return bgp.NewFlowSpecIPv4Unicast(cs), nil
}

func prefixComponent(p netip.Prefix, dst, v6 bool) bgp.FlowSpecComponentInterface {
	if v6 {
		pfx := bgp.NewIPv6AddrPrefix(uint8(p.Bits()), p.Addr().String())
		if dst {
			return bgp.NewFlowSpecDestinationPrefix6(pfx, 0)
		}
		return bgp.NewFlowSpecSourcePrefix6(pfx, 0)
	}
	pfx := bgp.NewIPAddrPrefix(uint8(p.Bits()), p.Addr().String())
	if dst {
		return bgp.NewFlowSpecDestinationPrefix(pfx)
	}
	return bgp.NewFlowSpecSourcePrefix(pfx)
}

// rangeItems is "=from" or ">=from&<=to"; consecutive ranges are ORed.
func rangeItems(from, to uint64) []*bgp.FlowSpecComponentItem {
	if from == to {
		return []*bgp.FlowSpecComponentItem{bgp.NewFlowSpecComponentItem(bgp.DEC_NUM_OP_EQ, from)}
	}
	return []*bgp.FlowSpecComponentItem{
		bgp.NewFlowSpecComponentItem(bgp.DEC_NUM_OP_GT_EQ, from),
		bgp.NewFlowSpecComponentItem(bgp.DEC_NUM_OP_AND|bgp.DEC_NUM_OP_LT_EQ, to),
	}
}

// flagItems matches f&mask == bits: the match bit requires every bit of
// bits set, the not bit (without match) every other masked bit clear.
func flagItems(bits, mask uint8) []*bgp.FlowSpecComponentItem {
	var items []*bgp.FlowSpecComponentItem
	if bits != 0 {
		items = append(items, bgp.NewFlowSpecComponentItem(bgp.BITMASK_FLAG_OP_MATCH, uint64(bits)))
	}
	if clear := mask &^ bits; clear != 0 {
		op := uint8(bgp.BITMASK_FLAG_OP_NOT)
		if len(items) > 0 {
			op |= bgp.BITMASK_FLAG_OP_AND
		}
		items = append(items, bgp.NewFlowSpecComponentItem(op, uint64(clear)))
	}
	if len(items) == 0 { // empty mask: any flags, still a TCP-flags component
		items = append(items, bgp.NewFlowSpecComponentItem(bgp.BITMASK_FLAG_OP_NOT, 0))
	}
	return items
}

func fragComponent(flag uint64) bgp.FlowSpecComponentInterface {
	return bgp.NewFlowSpecComponent(bgp.FLOW_SPEC_TYPE_FRAGMENT,
		[]*bgp.FlowSpecComponentItem{bgp.NewFlowSpecComponentItem(bgp.BITMASK_FLAG_OP_MATCH, flag)})
}
