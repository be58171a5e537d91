package bgp

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/rampartnet/rampart/sensor/detect"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestFlowSpecNLRI(t *testing.T) {
	tests := []struct {
		name string
		rule detect.Rule
		text string // GoBGP's rendering, as `gobgp global rib` shows it
		wire string // RFC 8955 encoding, hex, when checked byte for byte
	}{
		{
			name: "every component, in type order",
			rule: detect.Rule{Destination: pfx("198.51.100.10/32"), Source: pfx("203.0.113.0/24"), Protocols: []detect.Protocol{6, 17},
				SourcePorts: []detect.PortRange{{From: 53, To: 53}}, DestinationPorts: []detect.PortRange{{From: 80, To: 80}, {From: 1000, To: 2000}},
				PacketLength: &detect.Range{From: 512, To: 1500}, TCPFlags: &detect.FlagMatch{Bits: 0x02, Mask: 0x17}, Fragment: detect.FragIs},
			text: "[destination: 198.51.100.10/32][source: 203.0.113.0/24][protocol: ==tcp ==udp][destination-port: ==80 >=1000&<=2000][source-port: ==53][tcp-flags: =S&!FRA][packet-length: >=512&<=1500][fragment: =is-fragment]",
			// len, dst(1) /32, src(2) /24, proto(3) =6 =17|end, dport(5) =80 >=1000 &<=2000|end,
			// sport(6) =53|end, flags(9) match SYN, and-not FIN|RST|ACK|end, len(10) >=512 &<=1500|end, frag(12) match IS|end
			wire: "2b" + "0120c633640a" + "0218cb0071" + "03010681" + "11" + "050150" + "1303e8" + "d507d0" + "068135" + "090102" + "c215" + "0a130200" + "d505dc" + "0c8102",
		},
		{
			name: "destination only",
			rule: detect.Rule{Destination: pfx("198.51.100.10/32")},
			text: "[destination: 198.51.100.10/32]",
			wire: "06" + "0120c633640a",
		},
		{
			name: "source only: an attack from us",
			rule: detect.Rule{Source: pfx("198.51.100.7/32"), Protocols: []detect.Protocol{17}},
			text: "[source: 198.51.100.7/32][protocol: ==udp]",
		},
		{
			name: "host bits are masked off",
			rule: detect.Rule{Destination: pfx("198.51.100.10/24")},
			text: "[destination: 198.51.100.0/24]",
		},
		{
			name: "ipv6 with offset 0",
			rule: detect.Rule{Destination: pfx("2001:db8::1/128"), Protocols: []detect.Protocol{58}, Fragment: detect.FragFirst},
			text: "[destination: 2001:db8::1/128/0][protocol: ==58][fragment: =first-fragment]",
		},
		{
			name: "flags all clear (mask only)",
			rule: detect.Rule{Destination: pfx("198.51.100.10/32"), TCPFlags: &detect.FlagMatch{Bits: 0, Mask: 0x12}},
			text: "[destination: 198.51.100.10/32][tcp-flags: !SA]",
		},
		{
			name: "wide port range and 2-byte values",
			rule: detect.Rule{Destination: pfx("198.51.100.10/32"), DestinationPorts: []detect.PortRange{{From: 0, To: 65535}}},
			text: "[destination: 198.51.100.10/32][destination-port: >=0&<=65535]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.Then.Action = detect.ThenDiscard
			n, err := flowSpecNLRI(&tt.rule)
			if err != nil {
				t.Fatalf("flowSpecNLRI: %v", err)
			}
			if got := n.String(); got != tt.text {
				t.Errorf("NLRI\n got %s\nwant %s", got, tt.text)
			}
			if tt.wire == "" {
				return
			}
			b, err := n.Serialize()
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b); got != tt.wire {
				t.Errorf("wire\n got %s\nwant %s", got, tt.wire)
			}
		})
	}
}

func TestFlowSpecNLRIRejects(t *testing.T) {
	tests := []struct {
		name string
		rule *detect.Rule
		want string
	}{
		{"nil rule", nil, "without a rule"},
		{"no prefix", &detect.Rule{Protocols: []detect.Protocol{17}}, "no destination or source"},
		{"mixed families", &detect.Rule{Destination: pfx("198.51.100.1/32"), Source: pfx("2001:db8::/32")}, "mixes address families"},
		{"empty port range", &detect.Rule{Destination: pfx("198.51.100.1/32"), SourcePorts: []detect.PortRange{{From: 9, To: 8}}}, "source-port range 9..8"},
		{"empty length range", &detect.Rule{Destination: pfx("198.51.100.1/32"), PacketLength: &detect.Range{From: 100, To: 99}}, "packet length range 100..99"},
		{"flags outside mask", &detect.Rule{Destination: pfx("198.51.100.1/32"), TCPFlags: &detect.FlagMatch{Bits: 3, Mask: 1}}, "outside mask"},
		{"unknown fragment", &detect.Rule{Destination: pfx("198.51.100.1/32"), Fragment: "last"}, `got "last"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := flowSpecNLRI(tt.rule)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
