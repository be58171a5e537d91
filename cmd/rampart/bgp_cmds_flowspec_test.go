package main

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/rampartnet/rampart/sensor/detect"
)

func TestParseFlowSpec(t *testing.T) {
	discard := detect.Then{Action: detect.ThenDiscard}
	dst := netip.MustParsePrefix("198.51.100.7/32")
	for _, c := range []struct {
		text string
		want detect.Rule
	}{
		{"dst 198.51.100.7/32 proto udp sport 53 len 512-1500", detect.Rule{Destination: dst, Protocols: []detect.Protocol{17},
			SourcePorts: []detect.PortRange{{From: 53, To: 53}}, PacketLength: &detect.Range{From: 512, To: 1500}, Then: discard}},
		{"  dst 198.51.100.7  ", detect.Rule{Destination: dst, Then: discard}},
		{"src 2001:db8::/32 dst 2001:db8:1::1 proto tcp,icmpv6,200 dport 80,443,8000-8100",
			detect.Rule{Source: netip.MustParsePrefix("2001:db8::/32"), Destination: netip.MustParsePrefix("2001:db8:1::1/128"),
				Protocols:        []detect.Protocol{6, 58, 200},
				DestinationPorts: []detect.PortRange{{From: 80, To: 80}, {From: 443, To: 443}, {From: 8000, To: 8100}}, Then: discard}},
		{"dst 198.51.100.7/32 proto tcp flags S/SA", detect.Rule{Destination: dst, Protocols: []detect.Protocol{6},
			TCPFlags: &detect.FlagMatch{Bits: 0x02, Mask: 0x12}, Then: discard}},
		{"dst 198.51.100.7/32 flags RF", detect.Rule{Destination: dst, TCPFlags: &detect.FlagMatch{Bits: 0x05, Mask: 0x05}, Then: discard}},
		{"dst 198.51.100.7/32 flags /A frag is", detect.Rule{Destination: dst, TCPFlags: &detect.FlagMatch{Mask: 0x10}, Fragment: detect.FragIs, Then: discard}},
		{"frag first dst 198.51.100.0/24", detect.Rule{Destination: netip.MustParsePrefix("198.51.100.0/24"), Fragment: detect.FragFirst, Then: discard}},
	} {
		got, err := parseFlowSpec(c.text)
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%q: got %+v, want %+v", c.text, *got, c.want)
		}
	}
}

func TestParseFlowSpecErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"", "empty rule"},
		{"dst", `token 1 "dst": needs a value after it`},
		{"dst 198.51.100.7/32 proto", `token 3 "proto": needs a value after it`},
		{"dst 198.51.100.7/33", `token 2 "198.51.100.7/33" after "dst": must be an address or a prefix`},
		{"dst 198.51.100.7/24", `did you mean 198.51.100.0/24?`},
		{"dst ::ffff:1.2.3.4", `token 2 "::ffff:1.2.3.4" after "dst": must be an address`},
		{"dst 198.51.100.7 dst 198.51.100.8", `token 3 "dst": given twice`},
		{"dst 198.51.100.7 proto udp,bogus", `token 4 "udp,bogus" after "proto": protocol must be tcp, udp, icmp, icmpv6, gre, esp or 0-255, got "bogus"`},
		{"dst 198.51.100.7 proto 256", `got "256"`},
		{"dst 198.51.100.7 sport 53,", `token 4 "53," after "sport": must be N or N-M with numbers 0-65535, got ""`},
		{"dst 198.51.100.7 dport 70000", `got "70000"`},
		{"dst 198.51.100.7 len 1500-512", `token 4 "1500-512" after "len": range "1500-512" runs backwards`},
		{"dst 198.51.100.7 len 1-2-3", `got "1-2-3"`},
		{"dst 198.51.100.7 flags SX", `token 4 "SX" after "flags": flag 'X' is not one of FSRPAUEC`},
		{"dst 198.51.100.7 flags SA/A", `flags "SA" must all be in the mask "A"`},
		{"dst 198.51.100.7 flags /", "must name at least one flag"},
		{"dst 198.51.100.7 frag maybe", `token 4 "maybe" after "frag": must be is or first`},
		{"dst 198.51.100.7 port 80", `token 3 "port": unknown keyword`},
		{"proto udp sport 53", "has neither dst nor src"},
		{"dst 198.51.100.7 src 2001:db8::/32", "different families"},
	} {
		_, err := parseFlowSpec(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.text, err, c.want)
		}
	}
}

// FuzzFlowSpecText checks that an accepted rule is one the API takes
// (prefixes canonical, ranges forward, flags inside their mask, a dst or
// src) and that formatting it and parsing again gives the same rule.
func FuzzFlowSpecText(f *testing.F) {
	for _, s := range []string{
		"dst 198.51.100.7/32 proto udp sport 53 len 512-1500",
		"src 2001:db8::/32 dst 2001:db8:1::1 proto tcp,icmpv6,200 dport 80,443,8000-8100",
		"dst 198.51.100.7/32 proto tcp flags S/SA frag first",
		"dst 198.51.100.7 flags /A frag is",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := parseFlowSpec(text)
		if err != nil {
			if r != nil || !strings.HasPrefix(err.Error(), "flowspec: ") {
				t.Fatalf("%q: rule %+v with error %v", text, r, err)
			}
			return
		}
		if !r.Destination.IsValid() && !r.Source.IsValid() {
			t.Fatalf("%q: accepted without dst or src", text)
		}
		if r.Destination != r.Destination.Masked() || r.Source != r.Source.Masked() || r.Then.Action != detect.ThenDiscard {
			t.Fatalf("%q: accepted %+v", text, r)
		}
		for _, pr := range append(append([]detect.PortRange(nil), r.SourcePorts...), r.DestinationPorts...) {
			if pr.From > pr.To {
				t.Fatalf("%q: backwards port range %+v", text, pr)
			}
		}
		if (r.PacketLength != nil && r.PacketLength.From > r.PacketLength.To) ||
			(r.TCPFlags != nil && (r.TCPFlags.Mask == 0 || r.TCPFlags.Bits&^r.TCPFlags.Mask != 0)) {
			t.Fatalf("%q: accepted %+v", text, r)
		}
		again, err := parseFlowSpec(formatFlowSpec(r))
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("%q formats as %q, which parses to %+v, %v; want %+v", text, formatFlowSpec(r), again, err, r)
		}
	})
}
