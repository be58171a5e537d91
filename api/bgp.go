package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampartnet/rampart/sensor/detect"
)

// BGPControl is the BGP speaker as the API sees it; Deps.BGP is nil when
// BGP is off. Announce and Withdraw must only queue: a refusal is a
// *RefusedError.
type BGPControl interface {
	BGPStatus() BGPStatus
	Announce(detect.Request) error
	Withdraw(id string) error
}

// Refusal reasons the handlers map to their own status codes; they are the
// bgp package's Reason constants, which api does not import (it would pull
// GoBGP into every API client).
const (
	RefusedUnknownID  = "unknown-id"
	RefusedNotRunning = "not-running"
	RefusedRate       = "rate"
	RefusedQueueFull  = "queue-full"
)

// RefusedError is a request the speaker will not carry out, and why.
type RefusedError struct {
	Reason string
	Detail string
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason + ": " + e.Detail }

// ManualPrefix starts the ID of every announcement made through the API, so
// status tells them from the detector's.
const ManualPrefix = "manual-"

// BGPSession is one peer and the state of its session.
type BGPSession struct {
	Peer     string   `json:"peer"`
	State    string   `json:"state"`
	Families []string `json:"families"`
}

// BGPStatus is GET /api/v1/bgp.
type BGPStatus struct {
	Sessions      []BGPSession      `json:"sessions"`      // by peer
	Active        map[string]int    `json:"active"`        // announcements by action
	Refused       map[string]uint64 `json:"refused"`       // requests by reason
	Announcements []Mitigation      `json:"announcements"` // in force
}

// AnnounceRequest is the body of POST /api/v1/bgp/announce.
type AnnounceRequest struct {
	ID        string       `json:"id,omitempty"` // prefixed manual- if it is not; default: a new one
	Action    string       `json:"action"`       // flowspec, blackhole or redirect
	Rule      *detect.Rule `json:"rule,omitempty"`
	Prefix    string       `json:"prefix,omitempty"`
	Hostgroup string       `json:"hostgroup,omitempty"` // picks the hostgroup's action settings (next hop, communities)
	Reason    string       `json:"reason,omitempty"`
}

// WithdrawRequest is the body of POST /api/v1/bgp/withdraw.
type WithdrawRequest struct {
	ID string `json:"id"`
}

// Announced is the answer to announce and withdraw.
type Announced struct {
	ID     string `json:"id"`
	Action string `json:"action,omitempty"`
	Queued bool   `json:"queued"`
}

const maxIDLen = 64

var manualSeq atomic.Uint64

// newManualID is unique within the process and, by its time, across restarts.
func newManualID() string {
	return fmt.Sprintf("%s%s-%d", ManualPrefix, time.Now().UTC().Format("20060102T150405"), manualSeq.Add(1))
}

// DecodeAnnounce reads and checks an announce body. newID supplies the ID
// when the body has none.
func DecodeAnnounce(r io.Reader, newID func() string) (detect.Request, error) {
	var req AnnounceRequest
	if err := decodeStrict(r, &req); err != nil {
		return detect.Request{}, err
	}
	id := req.ID
	if id == "" {
		id = newID()
	} else if !strings.HasPrefix(id, ManualPrefix) {
		id = ManualPrefix + id
	}
	if err := checkID(id); err != nil {
		return detect.Request{}, err
	}
	reason, err := checkReason(req.Reason)
	if err != nil {
		return detect.Request{}, err
	}
	if err := checkHostgroup(req.Hostgroup); err != nil {
		return detect.Request{}, err
	}
	out := detect.Request{ID: id, Action: req.Action, Hostgroup: req.Hostgroup, Reason: reason}
	switch req.Action {
	case detect.ActionFlowSpec:
		if req.Prefix != "" {
			return detect.Request{}, &FieldError{"prefix", fmt.Sprintf("must be empty for flowspec (the rule has the match), got %q", req.Prefix)}
		}
		if req.Rule == nil {
			return detect.Request{}, &FieldError{"rule", "is required for flowspec"}
		}
		rule := *req.Rule
		if err := checkRule(&rule); err != nil {
			return detect.Request{}, err
		}
		out.Rule = &rule
	case detect.ActionBlackhole, detect.ActionRedirect:
		if req.Rule != nil {
			return detect.Request{}, &FieldError{"rule", "must be absent for " + req.Action}
		}
		if req.Prefix == "" {
			return detect.Request{}, &FieldError{"prefix", "is required for " + req.Action}
		}
		p, err := parsePrefix("prefix", req.Prefix)
		if err != nil {
			return detect.Request{}, err
		}
		out.Prefix = p
	default:
		return detect.Request{}, &FieldError{"action", fmt.Sprintf("must be %s, %s or %s, got %q",
			detect.ActionFlowSpec, detect.ActionBlackhole, detect.ActionRedirect, req.Action)}
	}
	return out, nil
}

// DecodeWithdraw reads and checks a withdraw body.
func DecodeWithdraw(r io.Reader) (string, error) {
	var req WithdrawRequest
	if err := decodeStrict(r, &req); err != nil {
		return "", err
	}
	if req.ID == "" {
		return "", &FieldError{"id", "is required"}
	}
	return req.ID, checkID(req.ID)
}

// checkID keeps IDs short and plain: they are table keys, log fields and
// file names' neighbours in the persisted table.
func checkID(id string) error {
	if len(id) > maxIDLen {
		return &FieldError{"id", fmt.Sprintf("must be at most %d bytes, got %d", maxIDLen, len(id))}
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return &FieldError{"id", fmt.Sprintf("must be letters, digits and -_.: only, got %q", id)}
		}
	}
	return nil
}

// checkHostgroup allows the characters of a config key; a name the
// speaker has no settings for gets its defaults.
func checkHostgroup(g string) error {
	if len(g) > maxIDLen {
		return &FieldError{"hostgroup", fmt.Sprintf("must be at most %d bytes, got %d", maxIDLen, len(g))}
	}
	for _, c := range g {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return &FieldError{"hostgroup", fmt.Sprintf("must be letters, digits and -_. only, got %q", g)}
		}
	}
	return nil
}

func parsePrefix(field, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, &FieldError{field, fmt.Sprintf("must be a prefix such as 198.51.100.7/32, got %q", s)}
	}
	return p, checkPrefix(field, p)
}

// checkPrefix wants the canonical form: what is announced is what was asked.
func checkPrefix(field string, p netip.Prefix) error {
	if p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return &FieldError{field, fmt.Sprintf("must be a plain IPv4 or IPv6 prefix, got %q", p)}
	}
	if p != p.Masked() {
		return &FieldError{field, fmt.Sprintf("must have no bits set past its length (%s), got %q", p.Masked(), p)}
	}
	return nil
}

// checkRule rejects what no router would take, so a bad rule is a 400 that
// names the field rather than the speaker's refusal.
func checkRule(r *detect.Rule) error {
	if !r.Destination.IsValid() && !r.Source.IsValid() {
		return &FieldError{"rule.destination", "rule needs a destination or a source prefix"}
	}
	for _, c := range []struct {
		field string
		p     netip.Prefix
	}{{"rule.destination", r.Destination}, {"rule.source", r.Source}} {
		if c.p.IsValid() {
			if err := checkPrefix(c.field, c.p); err != nil {
				return err
			}
		}
	}
	if r.Destination.IsValid() && r.Source.IsValid() && r.Destination.Addr().Is4() != r.Source.Addr().Is4() {
		return &FieldError{"rule.source", fmt.Sprintf("must be the same family as destination %s, got %s", r.Destination, r.Source)}
	}
	for _, c := range []struct {
		field string
		rs    []detect.PortRange
	}{{"rule.source_ports", r.SourcePorts}, {"rule.destination_ports", r.DestinationPorts}} {
		for _, pr := range c.rs {
			if pr.From > pr.To {
				return &FieldError{c.field, fmt.Sprintf("from must not exceed to, got %d-%d", pr.From, pr.To)}
			}
		}
	}
	if l := r.PacketLength; l != nil && l.From > l.To {
		return &FieldError{"rule.packet_length", fmt.Sprintf("from must not exceed to, got %d-%d", l.From, l.To)}
	}
	if f := r.TCPFlags; f != nil && (f.Mask == 0 || f.Bits&^f.Mask != 0) {
		return &FieldError{"rule.tcp_flags", fmt.Sprintf("mask must be non-zero and cover bits, got bits %#x mask %#x", f.Bits, f.Mask)}
	}
	switch r.Fragment {
	case detect.FragAny, detect.FragIs, detect.FragFirst:
	default:
		return &FieldError{"rule.fragment", fmt.Sprintf("must be %s or %s, got %q", detect.FragIs, detect.FragFirst, r.Fragment)}
	}
	switch r.Then.Action {
	case "":
		r.Then.Action = detect.ThenDiscard
	case detect.ThenDiscard:
	default:
		return &FieldError{"rule.then.action", fmt.Sprintf("must be %s, got %q", detect.ThenDiscard, r.Then.Action)}
	}
	return nil
}

const bgpOff = "bgp is not enabled: configure bgp in the sensor's config"

func (s *Server) getBGP(w http.ResponseWriter, _ *http.Request) {
	if s.deps.BGP == nil {
		writeError(w, http.StatusNotFound, bgpOff)
		return
	}
	st := s.deps.BGP.BGPStatus()
	if st.Sessions == nil {
		st.Sessions = []BGPSession{}
	}
	if st.Announcements == nil {
		st.Announcements = []Mitigation{}
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) postAnnounce(w http.ResponseWriter, r *http.Request) {
	if s.deps.BGP == nil {
		writeError(w, http.StatusNotFound, bgpOff)
		return
	}
	req, err := DecodeAnnounce(http.MaxBytesReader(w, r.Body, maxBody+1), newManualID)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.deps.BGP.Announce(req); err != nil {
		writeError(w, refusalCode(err), err.Error())
		return
	}
	s.log.Info().Str("id", req.ID).Str("action", req.Action).Str("reason", req.Reason).Str("remote", r.RemoteAddr).Msg("manual announcement queued")
	writeJSON(w, http.StatusAccepted, Announced{ID: req.ID, Action: req.Action, Queued: true})
}

func (s *Server) postWithdraw(w http.ResponseWriter, r *http.Request) {
	if s.deps.BGP == nil {
		writeError(w, http.StatusNotFound, bgpOff)
		return
	}
	id, err := DecodeWithdraw(http.MaxBytesReader(w, r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.deps.BGP.Withdraw(id); err != nil {
		writeError(w, refusalCode(err), err.Error())
		return
	}
	s.log.Info().Str("id", id).Str("remote", r.RemoteAddr).Msg("manual withdrawal queued")
	writeJSON(w, http.StatusAccepted, Announced{ID: id, Queued: true})
}

// refusalCode: a guardrail is 422 (the request was understood and will
// never pass), a full queue or the rate limit 429 (try later), a stopped
// speaker 503.
func refusalCode(err error) int {
	var r *RefusedError
	if !errors.As(err, &r) {
		return http.StatusServiceUnavailable
	}
	switch r.Reason {
	case RefusedUnknownID:
		return http.StatusNotFound
	case RefusedNotRunning:
		return http.StatusServiceUnavailable
	case RefusedRate, RefusedQueueFull:
		return http.StatusTooManyRequests
	}
	return http.StatusUnprocessableEntity
}
