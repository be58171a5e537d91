package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rampartnet/rampart/sensor/detect"
)

// FuzzAnnounceRequest checks that every accepted body is a request the
// speaker can build from (a manual ID, one of the actions with what it
// needs and nothing else, canonical prefixes), that re-encoding it decodes
// to the same request, and that every refusal is a FieldError.
func FuzzAnnounceRequest(f *testing.F) {
	for _, s := range []string{
		`{"action":"blackhole","prefix":"198.51.100.7/32"}`,
		`{"id":"t1","action":"flowspec","rule":{"destination":"198.51.100.7/32","protocols":["udp",6],"source_ports":[{"from":53,"to":53}],"packet_length":{"from":512,"to":1500},"tcp_flags":{"bits":2,"mask":18},"fragment":"is-fragment"}}`,
		`{"action":"redirect","prefix":"2001:db8::/48","reason":"scrub","hostgroup":"web"}`,
		`{"action":"flowspec","rule":{"source":"198.51.100.0/24","then":{"action":"discard"}}}`,
	} {
		f.Add([]byte(s))
	}
	newID := func() string { return ManualPrefix + "fuzz" }
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeAnnounce(bytes.NewReader(body), newID)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Msg == "" {
				t.Fatalf("error %v (%T) is not a FieldError with a message", err, err)
			}
			if !reflect.DeepEqual(req, detect.Request{}) {
				t.Fatalf("refused body returned %+v", req)
			}
			return
		}
		if len(body) > maxBody {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
		if !strings.HasPrefix(req.ID, ManualPrefix) || checkID(req.ID) != nil || req.Reason == "" {
			t.Fatalf("accepted id %q reason %q", req.ID, req.Reason)
		}
		switch req.Action {
		case detect.ActionFlowSpec:
			r := req.Rule
			if r == nil || req.Prefix.IsValid() || (!r.Destination.IsValid() && !r.Source.IsValid()) || r.Then.Action != detect.ThenDiscard {
				t.Fatalf("accepted flowspec %+v rule %+v", req, r)
			}
			if r.Destination != r.Destination.Masked() || r.Source != r.Source.Masked() {
				t.Fatalf("accepted unmasked prefix in %+v", r)
			}
		case detect.ActionBlackhole, detect.ActionRedirect:
			if req.Rule != nil || !req.Prefix.IsValid() || req.Prefix != req.Prefix.Masked() {
				t.Fatalf("accepted %+v", req)
			}
		default:
			t.Fatalf("accepted action %q", req.Action)
		}
		if checkHostgroup(req.Hostgroup) != nil {
			t.Fatalf("accepted hostgroup %q", req.Hostgroup)
		}
		again := AnnounceRequest{ID: req.ID, Action: req.Action, Rule: req.Rule, Hostgroup: req.Hostgroup, Reason: req.Reason}
		if req.Prefix.IsValid() {
			again.Prefix = req.Prefix.String()
		}
		b, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		req2, err := DecodeAnnounce(bytes.NewReader(b), newID)
		if err != nil || !reflect.DeepEqual(req2, req) {
			t.Fatalf("re-encoded %s decodes to %+v, %v; want %+v", b, req2, err, req)
		}
	})
}
