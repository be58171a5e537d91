package sensor

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/rampartnet/rampart/sensor/flow"
)

// flowTap lets a replay take flow exports out of a capture: UDP datagrams
// to one of ports go to a collector, which counts their records into the
// same host table on packet time.
type flowTap struct {
	col   *flow.Collector
	ports []uint16
}

func (f *flowTap) wants(port uint16) bool { return slices.Contains(f.ports, port) }

// handle passes the frame's UDP payload to the collector.
func (f *flowTap) handle(frame []byte, nowNs int64) {
	if from, payload, ok := udpPayload(frame); ok {
		f.col.HandleDatagram(from, payload, nowNs)
	}
}

// udpPayload finds the UDP payload and source of an Ethernet frame (VLAN
// tags allowed; IPv6 without extension headers), bounded by the UDP length.
func udpPayload(b []byte) (netip.AddrPort, []byte, bool) {
	off := 12
	for {
		if len(b) < off+2 {
			return netip.AddrPort{}, nil, false
		}
		et := binary.BigEndian.Uint16(b[off:])
		off += 2
		switch et {
		case 0x8100, 0x88a8, 0x9100:
			off += 2
			continue
		case 0x0800:
			if len(b) < off+20 || b[off]>>4 != 4 || b[off+9] != 17 {
				return netip.AddrPort{}, nil, false
			}
			src := netip.AddrFrom4([4]byte(b[off+12 : off+16]))
			return udpAt(b, off+int(b[off]&0x0f)*4, src)
		case 0x86dd:
			if len(b) < off+40 || b[off+6] != 17 {
				return netip.AddrPort{}, nil, false
			}
			src := netip.AddrFrom16([16]byte(b[off+8 : off+24]))
			return udpAt(b, off+40, src)
		default:
			return netip.AddrPort{}, nil, false
		}
	}
}

func udpAt(b []byte, off int, src netip.Addr) (netip.AddrPort, []byte, bool) {
	if len(b) < off+8 {
		return netip.AddrPort{}, nil, false
	}
	n := int(binary.BigEndian.Uint16(b[off+4:]))
	if n < 8 || len(b) < off+n {
		return netip.AddrPort{}, nil, false
	}
	return netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[off:])), b[off+8 : off+n], true
}
