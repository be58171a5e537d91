package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/rampartnet/rampart/sensor/aggregate"
)

// Limits on what a client may send.
const (
	maxBody      = 4 << 10
	maxReasonLen = 200
	maxBanTime   = 7 * 24 * time.Hour
)

// DefaultReason is the reason of a ban or unban that gives none.
const DefaultReason = "api"

// BanRequest is the body of POST /api/v1/mitigations/ban.
type BanRequest struct {
	IP        string `json:"ip"`
	Direction string `json:"direction,omitempty"` // in (default) or out
	Reason    string `json:"reason,omitempty"`
	Duration  string `json:"duration,omitempty"` // Go duration; empty: the detector's min_ban_time
}

// UnbanRequest is the body of POST /api/v1/mitigations/unban.
type UnbanRequest struct {
	IP     string `json:"ip"`
	Reason string `json:"reason,omitempty"`
}

// Ban is a decoded, checked BanRequest.
type Ban struct {
	IP        netip.Addr
	Direction aggregate.Dir
	Reason    string
	Duration  time.Duration
}

// Unban is a decoded, checked UnbanRequest.
type Unban struct {
	IP     netip.Addr
	Reason string
}

// FieldError is a bad request body: which field and why.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// DecodeBan reads and checks a ban request body.
func DecodeBan(r io.Reader) (Ban, error) {
	var req BanRequest
	if err := decodeStrict(r, &req); err != nil {
		return Ban{}, err
	}
	ip, err := parseIP(req.IP)
	if err != nil {
		return Ban{}, err
	}
	dir, err := parseDir("direction", req.Direction)
	if err != nil {
		return Ban{}, err
	}
	reason, err := checkReason(req.Reason)
	if err != nil {
		return Ban{}, err
	}
	var dur time.Duration
	if req.Duration != "" {
		dur, err = time.ParseDuration(req.Duration)
		if err != nil {
			return Ban{}, &FieldError{"duration", fmt.Sprintf("must be a Go duration such as 10m, got %q", req.Duration)}
		}
		if dur < 0 || dur > maxBanTime {
			return Ban{}, &FieldError{"duration", fmt.Sprintf("must be between 0 and %v, got %q", maxBanTime, req.Duration)}
		}
	}
	return Ban{IP: ip, Direction: dir, Reason: reason, Duration: dur}, nil
}

// DecodeUnban reads and checks an unban request body.
func DecodeUnban(r io.Reader) (Unban, error) {
	var req UnbanRequest
	if err := decodeStrict(r, &req); err != nil {
		return Unban{}, err
	}
	ip, err := parseIP(req.IP)
	if err != nil {
		return Unban{}, err
	}
	reason, err := checkReason(req.Reason)
	if err != nil {
		return Unban{}, err
	}
	return Unban{IP: ip, Reason: reason}, nil
}

// decodeStrict decodes exactly one JSON object with only known fields,
// turning the decoder's errors into FieldErrors.
func decodeStrict(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return &FieldError{"", "reading body: " + err.Error()}
	}
	if len(b) > maxBody {
		return &FieldError{"", fmt.Sprintf("body must be at most %d bytes", maxBody)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	// More() misses a stray '}' or ']' after the object: look at the bytes.
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return &FieldError{"", fmt.Sprintf("body must be one JSON object, got %q after it", truncate(rest, 20))}
	}
	return nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return &FieldError{te.Field, fmt.Sprintf("must be a JSON %s, got %s", te.Type.Kind(), te.Value)}
	case errors.As(err, &se):
		return &FieldError{"", fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
	case errors.Is(err, io.EOF):
		return &FieldError{"", "body must be a JSON object, got nothing"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &FieldError{"", "malformed JSON: unexpected end of body"}
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &FieldError{strings.Trim(f, `"`), "unknown field"}
	}
	return &FieldError{"", "malformed JSON: " + err.Error()}
}

func parseIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, &FieldError{"ip", "is required"}
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, &FieldError{"ip", fmt.Sprintf("must be an IPv4 or IPv6 address, got %q", s)}
	}
	if ip.IsUnspecified() {
		return netip.Addr{}, &FieldError{"ip", fmt.Sprintf("must not be unspecified, got %q", s)}
	}
	return ip.Unmap(), nil
}

// ParseDir reads a direction name; empty is in.
func parseDir(field, s string) (aggregate.Dir, error) {
	switch s {
	case "", "in":
		return aggregate.In, nil
	case "out":
		return aggregate.Out, nil
	}
	return 0, &FieldError{field, fmt.Sprintf("must be in or out, got %q", s)}
}

// parseSeries reads a metric name as aggregate.Series names it.
func parseSeries(field, s string) (aggregate.Series, error) {
	for x := range aggregate.NumSeries {
		if x.String() == s {
			return x, nil
		}
	}
	names := make([]string, aggregate.NumSeries)
	for x := range aggregate.NumSeries {
		names[x] = x.String()
	}
	return 0, &FieldError{field, fmt.Sprintf("must be one of %s, got %q", strings.Join(names, ", "), s)}
}

// checkReason keeps reasons short and printable: they end up in logs,
// attack records and notifications.
func checkReason(s string) (string, error) {
	if s == "" {
		return DefaultReason, nil
	}
	if len(s) > maxReasonLen {
		return "", &FieldError{"reason", fmt.Sprintf("must be at most %d bytes, got %d", maxReasonLen, len(s))}
	}
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return "", &FieldError{"reason", fmt.Sprintf("must be printable text, got %q", s)}
		}
	}
	return s, nil
}

// DecodeEmpty checks a body that carries nothing: empty or {}.
func DecodeEmpty(r io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return &FieldError{"", "reading body: " + err.Error()}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var req struct{}
	return decodeStrict(bytes.NewReader(b), &req)
}
