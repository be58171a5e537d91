package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/rampartnet/rampart/sensor/aggregate"
)

// FuzzBanRequest checks that every accepted body yields a ban the detector
// can take, that re-encoding it decodes to the same ban, and that every
// refusal is a FieldError with a message.
func FuzzBanRequest(f *testing.F) {
	for _, s := range []string{
		`{"ip":"192.0.2.1"}`,
		`{"ip":"2001:db8::1","direction":"out","reason":"r","duration":"10m"}`,
		`{"ip":"192.0.2.1","duration":"ten"}`,
		`{"ip":"192.0.2.1","x":1}`,
		`{"ip":"192.0.2.1"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBan(bytes.NewReader(body))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Msg == "" {
				t.Fatalf("error %v (%T) is not a FieldError with a message", err, err)
			}
			if b != (Ban{}) {
				t.Fatalf("refused body returned %+v", b)
			}
			return
		}
		if len(body) > maxBody {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
		if !b.IP.IsValid() || b.IP.Is4In6() || b.IP.Zone() != "" || b.IP.IsUnspecified() {
			t.Fatalf("accepted ip %v", b.IP)
		}
		if b.Direction >= aggregate.NumDirs || b.Duration < 0 || b.Duration > maxBanTime {
			t.Fatalf("accepted %+v", b)
		}
		if b.Reason == "" || len(b.Reason) > maxReasonLen || strings.IndexFunc(b.Reason, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			t.Fatalf("accepted reason %q", b.Reason)
		}
		again, err := json.Marshal(BanRequest{IP: b.IP.String(), Direction: b.Direction.String(), Reason: b.Reason, Duration: b.Duration.String()})
		if err != nil {
			t.Fatal(err)
		}
		b2, err := DecodeBan(bytes.NewReader(again))
		if err != nil || b2 != b {
			t.Fatalf("re-encoded %s decodes to %+v, %v; want %+v", again, b2, err, b)
		}
	})
}

// FuzzEmptyBody: a reload body is accepted only when it carries nothing,
// and every refusal is a FieldError.
func FuzzEmptyBody(f *testing.F) {
	for _, s := range []string{``, `{}`, ` {} `, `{"x":1}`, `[]`, `{}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := DecodeEmpty(bytes.NewReader(body))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Msg == "" {
				t.Fatalf("error %v (%T) is not a FieldError with a message", err, err)
			}
			return
		}
		var m map[string]json.RawMessage
		if t := bytes.TrimSpace(body); len(t) > 0 && (json.Unmarshal(t, &m) != nil || len(m) != 0) {
			panic("accepted a body with content: " + string(body))
		}
	})
}
