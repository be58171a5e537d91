package demosrc

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// template is a pre-built frame and where to vary it per packet: the low
// bits of the remote address and one port, with checksums fixed up.
type template struct {
	data     []byte
	addrOff  int    // offset of the 16-bit word of the remote address to vary, or -1
	addrMask uint16 // bits of that word to randomize
	portOff  int    // offset of the port to randomize, or -1
	ipCsum   int    // offset of the IPv4 header checksum, or -1
	l4Csum   int    // offset of the L4 checksum covering the varied fields, or -1
}

const (
	ethLen   = 14
	poolSize = 4096
)

// Remote networks, all documentation ranges: clients and servers the demo
// hosts talk to, and the attack's sources.
var (
	clients4    = netip.MustParseAddr("203.0.113.0")
	clients6    = netip.MustParseAddr("2001:db8:ffff::")
	reflectors4 = netip.MustParseAddr("192.0.2.0")
	reflectors6 = netip.MustParseAddr("2001:db8:eeee::")
)

// newTemplate builds f; remoteIsSrc says which address is the remote one,
// varyPort which port to randomize: < 0 source, > 0 destination, 0 none.
func newTemplate(f packettest.Frame, remoteIsSrc bool, varyPort int) template {
	t := template{data: f.Bytes(), addrOff: -1, portOff: -1, ipCsum: -1, l4Csum: -1}
	ip := ethLen
	v6 := f.Src.Is6()
	l4 := ip + 20
	if v6 {
		l4 = ip + 40
		if f.IsFragment() { // the only extension header the demo uses
			l4 += 8
		}
	}
	// Vary the last address word: 8 bits of an IPv4 /24, 16 bits of IPv6.
	t.addrOff, t.addrMask = ip+14, 0x00ff
	if !remoteIsSrc {
		t.addrOff = ip + 18
	}
	if v6 {
		t.addrOff, t.addrMask = ip+22, 0xffff
		if !remoteIsSrc {
			t.addrOff = ip + 38
		}
	} else {
		t.ipCsum = ip + 10
	}
	whole := !f.IsFragment() // fragments carry no full-datagram checksum to fix
	switch f.Proto {
	case packet.ProtoTCP:
		if whole {
			t.l4Csum = l4 + 16
		}
	case packet.ProtoUDP:
		if whole {
			t.l4Csum = l4 + 6
		}
	case packet.ProtoICMPv6:
		t.l4Csum = l4 + 2 // covers the pseudo-header; ICMPv4's does not
	}
	if f.FragOffset == 0 && varyPort != 0 && (f.Proto == packet.ProtoTCP || f.Proto == packet.ProtoUDP) {
		t.portOff = l4 // varyPort < 0: source port
		if varyPort > 0 {
			t.portOff = l4 + 2
		}
	}
	return t
}

// render copies t into dst and varies it with r.
func (t *template) render(dst []byte, r *rand.Rand) []byte {
	b := dst[:len(t.data)]
	copy(b, t.data)
	if t.addrOff >= 0 {
		old := binary.BigEndian.Uint16(b[t.addrOff:])
		v := old&^t.addrMask | uint16(r.Uint32())&t.addrMask
		if v&t.addrMask == 0 {
			v |= 1 // never the network address
		}
		t.set(b, t.addrOff, old, v, true)
	}
	if t.portOff >= 0 {
		old := binary.BigEndian.Uint16(b[t.portOff:])
		t.set(b, t.portOff, old, 1024+uint16(r.Uint32N(64512)), false)
	}
	return b
}

// set writes v at off and fixes the checksums by RFC 1624's incremental rule.
func (t *template) set(b []byte, off int, old, v uint16, inIPHeader bool) {
	binary.BigEndian.PutUint16(b[off:], v)
	if inIPHeader && t.ipCsum >= 0 {
		fixCsum(b[t.ipCsum:], old, v)
	}
	if t.l4Csum >= 0 {
		fixCsum(b[t.l4Csum:], old, v)
	}
}

func fixCsum(c []byte, old, v uint16) {
	s := uint32(^binary.BigEndian.Uint16(c)) + uint32(^old) + uint32(v)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	binary.BigEndian.PutUint16(c, ^uint16(s))
}

// addrN is base plus n.
func addrN(base netip.Addr, n int) netip.Addr {
	b := base.As16()
	for i := 15; i >= 0 && n > 0; i-- {
		s := int(b[i]) + n&0xff
		b[i] = byte(s)
		n = n>>8 + s>>8
	}
	a := netip.AddrFrom16(b)
	if base.Is4() {
		return a.Unmap()
	}
	return a
}

// kind is one sort of benign exchange, weighted by how often it appears.
type kind struct {
	weight int
	build  func(host, remote netip.Addr, r *rand.Rand) (f packettest.Frame, remoteIsSrc bool, varyPort int)
}

var benignKinds = []kind{
	{30, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // web request / ack in
		return packettest.Frame{Src: c, Dst: h, Proto: 6, SrcPort: 50000, DstPort: 443, TCPFlags: packet.TCPAck | packet.TCPPsh, Payload: r.IntN(500)}, true, -1
	}},
	{30, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // web response out
		return packettest.Frame{Src: h, Dst: c, Proto: 6, SrcPort: 443, DstPort: 50000, TCPFlags: packet.TCPAck, Payload: 1448 - r.IntN(4)*400}, false, 1
	}},
	{2, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // new connection in
		return packettest.Frame{Src: c, Dst: h, Proto: 6, SrcPort: 50000, DstPort: []uint16{443, 80, 22}[r.IntN(3)], TCPFlags: packet.TCPSyn}, true, -1
	}},
	{2, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // its SYN-ACK out
		return packettest.Frame{Src: h, Dst: c, Proto: 6, SrcPort: 443, DstPort: 50000, TCPFlags: packet.TCPSyn | packet.TCPAck}, false, 1
	}},
	{8, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // host as client: upload out
		return packettest.Frame{Src: h, Dst: c, Proto: 6, SrcPort: 50000, DstPort: 443, TCPFlags: packet.TCPAck | packet.TCPPsh, Payload: 100 + r.IntN(1300)}, false, -1
	}},
	{6, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // DNS query in
		return packettest.Frame{Src: c, Dst: h, Proto: 17, SrcPort: 50000, DstPort: 53, Payload: 30 + r.IntN(30)}, true, -1
	}},
	{6, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // DNS answer out
		return packettest.Frame{Src: h, Dst: c, Proto: 17, SrcPort: 53, DstPort: 50000, Payload: 60 + r.IntN(200)}, false, 1
	}},
	{8, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // QUIC in
		return packettest.Frame{Src: c, Dst: h, Proto: 17, SrcPort: 50000, DstPort: 443, Payload: 1200 + r.IntN(50)}, true, -1
	}},
	{6, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // QUIC out
		return packettest.Frame{Src: h, Dst: c, Proto: 17, SrcPort: 443, DstPort: 50000, Payload: 1200 + r.IntN(50)}, false, 1
	}},
	{1, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // ping in
		return packettest.Frame{Src: c, Dst: h, Proto: icmpFor(h), ICMPType: echoRequest(h), Payload: 56}, true, 0
	}},
	{1, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // pong out
		return packettest.Frame{Src: h, Dst: c, Proto: icmpFor(h), ICMPType: echoRequest(h) + 1, Payload: 56}, false, 0
	}},
	{1, func(h, c netip.Addr, r *rand.Rand) (packettest.Frame, bool, int) { // large UDP in, fragmented: first or later
		if r.IntN(2) == 0 {
			return packettest.Frame{Src: c, Dst: h, Proto: 17, SrcPort: 50000, DstPort: 4789, MoreFrags: true, FragID: r.Uint32(), Payload: 1400}, true, -1
		}
		return packettest.Frame{Src: c, Dst: h, Proto: 17, FragOffset: 176, FragID: r.Uint32(), Payload: 600}, true, 0
	}},
}

func icmpFor(a netip.Addr) uint8 {
	if a.Is6() {
		return packet.ProtoICMPv6
	}
	return packet.ProtoICMP
}

func echoRequest(a netip.Addr) uint8 {
	if a.Is6() {
		return 128
	}
	return 8
}

// benignPool builds poolSize templates over the hosts, skewed toward the
// first ones, as real traffic concentrates on a few busy servers.
func benignPool(hosts4, hosts6 []netip.Addr, r *rand.Rand) []template {
	total := 0
	for _, k := range benignKinds {
		total += k.weight
	}
	pool := make([]template, 0, poolSize)
	for range poolSize {
		host := pickHost(hosts4, r)
		remote := clients4
		if len(hosts6) > 0 && r.IntN(5) == 0 { // a fifth of the traffic is IPv6
			host, remote = pickHost(hosts6, r), clients6
		}
		w := r.IntN(total)
		for _, k := range benignKinds {
			if w -= k.weight; w < 0 {
				f, remoteIsSrc, port := k.build(host, remote, r)
				pool = append(pool, newTemplate(f, remoteIsSrc, port))
				break
			}
		}
	}
	return pool
}

func pickHost(hosts []netip.Addr, r *rand.Rand) netip.Addr {
	// With u uniform, P(index < k) = (k/n)^(1/3): of 50 hosts the first
	// gets about a quarter of the traffic and the last about 0.7%.
	u := r.Float64()
	return hosts[int(u*u*u*float64(len(hosts)))]
}

// attackPools are the SYN flood and the amplification templates for victim.
func attackPools(victim netip.Addr, r *rand.Rand) (syn, amp []template) {
	src, refl := clients4, reflectors4
	if victim.Is6() {
		src, refl = clients6, reflectors6
	}
	for i := range 64 {
		syn = append(syn, newTemplate(packettest.Frame{Src: addrN(src, 1+i), Dst: victim, Proto: 6,
			SrcPort: 40000, DstPort: []uint16{80, 443}[i%2], TCPFlags: packet.TCPSyn}, true, -1))
	}
	for i := range 64 {
		var f packettest.Frame
		switch i % 4 {
		case 0: // NTP monlist response
			f = packettest.Frame{Src: refl, Dst: victim, Proto: 17, SrcPort: 123, DstPort: 40000, Payload: 440}
		case 1: // DNS ANY response
			f = packettest.Frame{Src: refl, Dst: victim, Proto: 17, SrcPort: 53, DstPort: 40000, Payload: 1200 + r.IntN(200)}
		case 2: // fragmented DNS response, first fragment
			f = packettest.Frame{Src: refl, Dst: victim, Proto: 17, SrcPort: 53, DstPort: 40000, MoreFrags: true, FragID: uint32(i), Payload: 1400}
		case 3: // and a later one
			f = packettest.Frame{Src: refl, Dst: victim, Proto: 17, FragOffset: 176, FragID: uint32(i), Payload: 1200}
		}
		amp = append(amp, newTemplate(f, true, 1))
	}
	return syn, amp
}
