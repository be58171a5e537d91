package detect

import (
	"net/netip"

	"github.com/rs/zerolog"
)

// Request asks for one mitigation. ID is the attack's, and names the
// mitigation in Withdraw.
type Request struct {
	ID        string
	Action    string       // ActionFlowSpec, ActionBlackhole or ActionRedirect
	Rule      *Rule        // ActionFlowSpec
	Prefix    netip.Prefix // the host: blackhole route or prefix to divert
	Hostgroup string
	Reason    string // why this action, e.g. the fallback to blackhole
}

// Mitigator carries out mitigation requests (the bgp package implements it).
// Both methods run on the detector goroutine: they must return quickly and
// queue any slow work. An error counts as refused.
type Mitigator interface {
	Mitigate(Request) error
	Withdraw(id string) error
}

// LogMitigator only logs what it would announce; the default Mitigator.
type LogMitigator struct{ Log zerolog.Logger }

// Mitigate logs the request, with a FlowSpec rule in text form.
func (m LogMitigator) Mitigate(r Request) error {
	ev := m.Log.Info().Str("id", r.ID).Str("action", r.Action).Str("hostgroup", r.Hostgroup)
	if r.Rule != nil {
		ev = ev.Str("rule", r.Rule.String())
	} else {
		ev = ev.Str("prefix", r.Prefix.String())
	}
	if r.Reason != "" {
		ev = ev.Str("reason", r.Reason)
	}
	ev.Msg("mitigation requested")
	return nil
}

// Withdraw logs the withdrawal.
func (m LogMitigator) Withdraw(id string) error {
	m.Log.Info().Str("id", id).Msg("mitigation withdrawn")
	return nil
}
