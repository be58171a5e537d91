package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rampartnet/rampart/sensor/detect"
)

// tcpFlagLetters are the TCP flags by bit, lowest first, as in
// "flags S/SA" (SYN set, ACK clear).
const tcpFlagLetters = "FSRPAUEC"

// parseFlowSpec reads a FlowSpec match written as keyword-value pairs:
//
//	dst PREFIX  src PREFIX  proto tcp|udp|icmp|N[,...]
//	sport N|N-M[,...]  dport N|N-M[,...]  len N|N-M
//	flags BITS[/MASK] (letters of FSRPAUEC)  frag is|first
//
// Errors name the token and its position (1-based, in words).
func parseFlowSpec(text string) (*detect.Rule, error) {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil, fmt.Errorf("flowspec: empty rule, want e.g. \"dst 198.51.100.7/32 proto udp sport 53\"")
	}
	r := &detect.Rule{Then: detect.Then{Action: detect.ThenDiscard}}
	seen := map[string]bool{}
	for i := 0; i < len(words); i += 2 {
		key := words[i]
		if i+1 == len(words) {
			return nil, fmt.Errorf("flowspec: token %d %q: needs a value after it", i+1, key)
		}
		val := words[i+1]
		if seen[key] {
			return nil, fmt.Errorf("flowspec: token %d %q: given twice", i+1, key)
		}
		seen[key] = true
		bad := func(format string, args ...any) error {
			return fmt.Errorf("flowspec: token %d %q after %q: %s", i+2, val, key, fmt.Sprintf(format, args...))
		}
		var err error
		switch key {
		case "dst", "src":
			var p netip.Prefix
			if p, err = parseHostOrPrefix(val); err != nil {
				return nil, bad("%v", err)
			}
			if key == "dst" {
				r.Destination = p
			} else {
				r.Source = p
			}
		case "proto":
			for _, s := range strings.Split(val, ",") {
				var p detect.Protocol
				if p.UnmarshalText([]byte(s)) != nil {
					return nil, bad("protocol must be tcp, udp, icmp, icmpv6, gre, esp or 0-255, got %q", s)
				}
				r.Protocols = append(r.Protocols, p)
			}
		case "sport", "dport":
			var rs []detect.PortRange
			for _, s := range strings.Split(val, ",") {
				from, to, err := parseRange(s)
				if err != nil {
					return nil, bad("%v", err)
				}
				rs = append(rs, detect.PortRange{From: from, To: to})
			}
			if key == "sport" {
				r.SourcePorts = rs
			} else {
				r.DestinationPorts = rs
			}
		case "len":
			from, to, err := parseRange(val)
			if err != nil {
				return nil, bad("%v", err)
			}
			r.PacketLength = &detect.Range{From: from, To: to}
		case "flags":
			if r.TCPFlags, err = parseTCPFlags(val); err != nil {
				return nil, bad("%v", err)
			}
		case "frag":
			switch val {
			case "is":
				r.Fragment = detect.FragIs
			case "first":
				r.Fragment = detect.FragFirst
			default:
				return nil, bad("must be is or first")
			}
		default:
			return nil, fmt.Errorf("flowspec: token %d %q: unknown keyword, want dst, src, proto, sport, dport, len, flags or frag", i+1, key)
		}
	}
	if !r.Destination.IsValid() && !r.Source.IsValid() {
		return nil, fmt.Errorf("flowspec: %q has neither dst nor src: a rule must say whose traffic it drops", text)
	}
	if r.Destination.IsValid() && r.Source.IsValid() && r.Destination.Addr().Is4() != r.Source.Addr().Is4() {
		return nil, fmt.Errorf("flowspec: dst %s and src %s are of different families", r.Destination, r.Source)
	}
	return r, nil
}

// parseHostOrPrefix takes a prefix, or an address as its host prefix.
func parseHostOrPrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			return netip.Prefix{}, fmt.Errorf("must be an address or a prefix such as 198.51.100.0/24")
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("must be an address or a prefix such as 198.51.100.0/24")
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("has bits set past its length, did you mean %s?", p.Masked())
	}
	return p, nil
}

// parseRange reads N or N-M, 0-65535, N <= M.
func parseRange(s string) (uint16, uint16, error) {
	a, b, isRange := strings.Cut(s, "-")
	from, err := strconv.ParseUint(a, 10, 16)
	if err != nil {
		return 0, 0, fmt.Errorf("must be N or N-M with numbers 0-65535, got %q", s)
	}
	to := from
	if isRange {
		if to, err = strconv.ParseUint(b, 10, 16); err != nil {
			return 0, 0, fmt.Errorf("must be N or N-M with numbers 0-65535, got %q", s)
		}
	}
	if from > to {
		return 0, 0, fmt.Errorf("range %q runs backwards", s)
	}
	return uint16(from), uint16(to), nil
}

// parseTCPFlags reads BITS[/MASK]; without a mask the flags in BITS must be
// set and the others are free.
func parseTCPFlags(s string) (*detect.FlagMatch, error) {
	bitsText, maskText, hasMask := strings.Cut(s, "/")
	bits, err := flagBits(bitsText)
	if err != nil {
		return nil, err
	}
	mask := bits
	if hasMask {
		if mask, err = flagBits(maskText); err != nil {
			return nil, err
		}
	}
	if mask == 0 {
		return nil, fmt.Errorf("must name at least one flag of %s", tcpFlagLetters)
	}
	if bits&^mask != 0 {
		return nil, fmt.Errorf("flags %q must all be in the mask %q", bitsText, maskText)
	}
	return &detect.FlagMatch{Bits: bits, Mask: mask}, nil
}

func flagBits(s string) (uint8, error) {
	var b uint8
	for _, c := range s {
		i := strings.IndexRune(tcpFlagLetters, c)
		if i < 0 {
			return 0, fmt.Errorf("flag %q is not one of %s", c, tcpFlagLetters)
		}
		b |= 1 << i
	}
	return b, nil
}

// formatFlowSpec writes r in the text parseFlowSpec reads.
func formatFlowSpec(r *detect.Rule) string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+" "+v) }
	if r.Destination.IsValid() {
		add("dst", r.Destination.String())
	}
	if r.Source.IsValid() {
		add("src", r.Source.String())
	}
	if len(r.Protocols) > 0 {
		ps := make([]string, len(r.Protocols))
		for i, p := range r.Protocols {
			ps[i] = p.String()
		}
		add("proto", strings.Join(ps, ","))
	}
	for _, c := range []struct {
		k  string
		rs []detect.PortRange
	}{{"sport", r.SourcePorts}, {"dport", r.DestinationPorts}} {
		if len(c.rs) > 0 {
			ps := make([]string, len(c.rs))
			for i, pr := range c.rs {
				ps[i] = formatRange(pr.From, pr.To)
			}
			add(c.k, strings.Join(ps, ","))
		}
	}
	if l := r.PacketLength; l != nil {
		add("len", formatRange(l.From, l.To))
	}
	if f := r.TCPFlags; f != nil {
		add("flags", flagLetters(f.Bits)+"/"+flagLetters(f.Mask))
	}
	switch r.Fragment {
	case detect.FragIs:
		add("frag", "is")
	case detect.FragFirst:
		add("frag", "first")
	}
	return strings.Join(parts, " ")
}

func formatRange(from, to uint16) string {
	if from == to {
		return strconv.Itoa(int(from))
	}
	return strconv.Itoa(int(from)) + "-" + strconv.Itoa(int(to))
}

func flagLetters(b uint8) string {
	var s []byte
	for i := range len(tcpFlagLetters) {
		if b&(1<<i) != 0 {
			s = append(s, tcpFlagLetters[i])
		}
	}
	return string(s)
}
