package bgp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/rampartnet/rampart/internal/atomicfile"
	"github.com/rampartnet/rampart/sensor/detect"
)

// stateVersion is the format of the state file; bump it on incompatible changes.
const stateVersion = 1

// state is the file that keeps the active table across restarts.
type state struct {
	Version     int      `json:"version"`
	Mitigations []record `json:"mitigations"`
}

// record is one active mitigation: the request it came from (rebuilt into a
// path with the config at restore time) and when it started and expires.
type record struct {
	ID          string       `json:"id"`
	Action      string       `json:"action"`
	Rule        *detect.Rule `json:"rule,omitempty"`
	Prefix      netip.Prefix `json:"prefix,omitzero"`
	Hostgroup   string       `json:"hostgroup,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	AnnouncedAt time.Time    `json:"announced_at"`
	ExpiresAt   time.Time    `json:"expires_at,omitzero"` // zero: until withdrawn
}

func (r *record) request() detect.Request {
	return detect.Request{ID: r.ID, Action: r.Action, Rule: r.Rule, Prefix: r.Prefix, Hostgroup: r.Hostgroup, Reason: r.Reason}
}

// validate checks what the file cannot express by its types alone.
func (r *record) validate() error {
	if r.ID == "" {
		return errors.New("id: must not be empty")
	}
	switch r.Action {
	case detect.ActionFlowSpec:
		if r.Rule == nil {
			return errors.New("rule: must be set for action flowspec")
		}
	case detect.ActionBlackhole, detect.ActionRedirect:
		if !r.Prefix.IsValid() {
			return fmt.Errorf("prefix: must be set for action %s", r.Action)
		}
	default:
		return fmt.Errorf("action: must be %s, %s or %s, got %q", detect.ActionFlowSpec, detect.ActionBlackhole, detect.ActionRedirect, r.Action)
	}
	if r.AnnouncedAt.IsZero() {
		return errors.New("announced_at: must be set")
	}
	return nil
}

// parseState reads a state file's bytes; errors name the offset or the
// record and field.
func parseState(data []byte) ([]record, error) {
	var raw struct {
		Version     int               `json:"version"`
		Mitigations []json.RawMessage `json:"mitigations"`
	}
	if err := strictUnmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw.Version != stateVersion {
		return nil, fmt.Errorf("version: must be %d, got %d", stateVersion, raw.Version)
	}
	recs := make([]record, len(raw.Mitigations))
	seen := make(map[string]int, len(recs))
	for i, m := range raw.Mitigations {
		if err := strictUnmarshal(m, &recs[i]); err != nil {
			return nil, fmt.Errorf("mitigations[%d]: %w", i, err)
		}
		if err := recs[i].validate(); err != nil {
			return nil, fmt.Errorf("mitigations[%d].%w", i, err)
		}
		if j, dup := seen[recs[i].ID]; dup {
			return nil, fmt.Errorf("mitigations[%d].id: duplicate of mitigations[%d], got %q", i, j, recs[i].ID)
		}
		seen[recs[i].ID] = i
	}
	return recs, nil
}

// strictUnmarshal rejects unknown keys and trailing data, and puts the
// byte offset into syntax and type errors.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = fmt.Errorf("offset %d: trailing data after the JSON object", dec.InputOffset())
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("offset %d: unexpected end of file (truncated?)", len(data))
	case errors.As(err, &syn):
		return fmt.Errorf("offset %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return fmt.Errorf("offset %d: field %q: %v", typ.Offset, typ.Field, typ)
	case err != nil && dec.InputOffset() > 0:
		return fmt.Errorf("offset %d: %v", dec.InputOffset(), err)
	}
	return err
}

// loadState reads the file at path; a missing file is an empty table.
func loadState(path string) ([]record, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bgp: state file: %w", err)
	}
	recs, err := parseState(data)
	if err != nil {
		return nil, fmt.Errorf("bgp: state file %s: %w", path, err)
	}
	return recs, nil
}

func marshalState(recs []record) ([]byte, error) {
	if recs == nil {
		recs = []record{}
	}
	return json.MarshalIndent(state{Version: stateVersion, Mitigations: recs}, "", " ")
}

// saveState writes atomically (internal/atomicfile), so a crash leaves the
// old table or the new one.
func saveState(path string, recs []record) error {
	data, err := marshalState(recs)
	if err == nil {
		err = atomicfile.Write(path, atomicfile.Options{}, func(w io.Writer) error { _, err := w.Write(data); return err })
	}
	if err != nil {
		return fmt.Errorf("bgp: state file %s: %w", path, err)
	}
	return nil
}
