package bgp

import (
	"context"
	"fmt"
	"strings"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// startServer runs GoBGP: listening (so restarted peers can connect in),
// with every peer and its families listed explicitly, since FlowSpec is not
// on by default.
func (s *Speaker) startServer(ctx context.Context) error {
	srv := server.NewBgpServer(server.LoggerOption(gobgpLogger{s.log}))
	go srv.Serve()
	g := &api.Global{Asn: s.cfg.LocalAS, RouterId: s.cfg.RouterID.String(), ListenPort: int32(s.cfg.ListenPort)}
	if s.cfg.ListenAddress.IsValid() {
		g.ListenAddresses = []string{s.cfg.ListenAddress.String()}
	}
	if err := srv.StartBgp(ctx, &api.StartBgpRequest{Global: g}); err != nil {
		srv.Stop()
		return fmt.Errorf("bgp: start speaker on %v port %d: %w", g.ListenAddresses, g.ListenPort, err)
	}
	watchCtx, cancel := context.WithCancel(context.Background())
	if err := srv.WatchEvent(watchCtx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, s.peerEvent); err != nil {
		cancel()
		srv.Stop()
		return fmt.Errorf("bgp: watch peers: %w", err)
	}
	for i, pc := range s.cfg.Peers {
		s.mu.Lock()
		s.sessions[pc.Address.String()] = "idle"
		s.mu.Unlock()
		if err := srv.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(pc)}); err != nil {
			cancel()
			srv.Stop()
			return fmt.Errorf("bgp: peers[%d] %s: %w", i, pc.Address, err)
		}
	}
	s.srv, s.stopWatch = srv, cancel
	return nil
}

// stopServer closes the sessions first and waits (bounded) until every
// peer is idle: GoBGP's StopBgp clears its global config while a live
// session's receive loop may still read it (a data race in GoBGP 3.37).
func (s *Speaker) stopServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, pc := range s.cfg.Peers {
		if err := s.srv.DisablePeer(ctx, &api.DisablePeerRequest{Address: pc.Address.String(), Communication: "rampart stopping"}); err != nil {
			s.log.Warn().Str("peer", pc.Address.String()).Err(err).Msg("cannot close bgp session")
		}
	}
	for ctx.Err() == nil && !s.allIdle() {
		time.Sleep(10 * time.Millisecond)
	}
	s.stopWatch()
	s.srv.Stop()
}

func (s *Speaker) allIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.sessions {
		if st != "idle" {
			return false
		}
	}
	return true
}

var familyAPI = map[string]*api.Family{
	"ipv4-unicast":  {Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
	"ipv6-unicast":  {Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST},
	"ipv4-flowspec": {Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_FLOW_SPEC_UNICAST},
	"ipv6-flowspec": {Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_FLOW_SPEC_UNICAST},
}

func apiPeer(pc PeerConfig) *api.Peer {
	p := &api.Peer{
		Conf: &api.PeerConf{NeighborAddress: pc.Address.String(), PeerAsn: pc.AS, AuthPassword: pc.Password},
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry:      uint64(max(pc.ConnectRetry.Seconds(), 1)),
			HoldTime:          uint64(pc.HoldTime.Seconds()),
			KeepaliveInterval: uint64(max(pc.HoldTime.Seconds()/3, 1)),
		}},
		Transport: &api.Transport{PassiveMode: pc.Passive, RemotePort: uint32(pc.Port)},
	}
	if pc.LocalAddress.IsValid() {
		p.Transport.LocalAddress = pc.LocalAddress.String()
	}
	if pc.Multihop > 0 {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(pc.Multihop)}
	}
	for _, f := range pc.Families {
		p.AfiSafis = append(p.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: familyAPI[f], Enabled: true}})
	}
	return p
}

// peerEvent records and logs session state changes.
func (s *Speaker) peerEvent(r *api.WatchEventResponse) {
	pe := r.GetPeer()
	if pe == nil || pe.Type != api.WatchEventResponse_PeerEvent_STATE || pe.Peer.GetState() == nil {
		return
	}
	st := pe.Peer.State
	state := strings.ToLower(st.SessionState.String())
	s.mu.Lock()
	prev := s.sessions[st.NeighborAddress]
	s.sessions[st.NeighborAddress] = state
	s.mu.Unlock()
	if prev == state {
		return
	}
	ev := s.log.Info()
	if prev == "established" {
		ev = s.log.Warn()
	}
	ev.Str("peer", st.NeighborAddress).Uint32("as", st.PeerAsn).Str("from", prev).Str("to", state).Msg("bgp session state")
}

// Stats is what the metrics exporter and `rampart bgp status` show.
type Stats struct {
	Sessions    map[string]string // peer address → "established", "active", "idle", ...
	Active      map[string]int    // announcements by action
	Refused     map[string]uint64 // requests by reason (Reason* constants)
	QueueDrops  uint64            // requests refused because the queue was full
	Announced   uint64            // paths handed to GoBGP (or logged in dry run)
	Withdrawn   uint64
	ApplyErrors uint64 // paths GoBGP rejected
	SaveErrors  uint64 // state file writes that failed
	Restored    uint64 // re-announced from the state file at Start
	Expired     uint64 // withdrawn or not restored because of limits.max_age
	Dropped     uint64 // in the state file but refused at Start
}

// Stats is a snapshot of the counters.
func (s *Speaker) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Sessions: make(map[string]string, len(s.sessions)), Active: map[string]int{}, Refused: map[string]uint64{},
		QueueDrops: s.counts.queueDrops, Announced: s.counts.announced, Withdrawn: s.counts.withdrawn,
		ApplyErrors: s.counts.applyErrors, SaveErrors: s.counts.saveErrors,
		Restored: s.counts.restored, Expired: s.counts.expired, Dropped: s.counts.dropped,
	}
	for k, v := range s.sessions {
		st.Sessions[k] = v
	}
	for k, v := range s.active {
		if v > 0 {
			st.Active[k] = v
		}
	}
	for k, v := range s.counts.refused {
		st.Refused[k] = v
	}
	return st
}

var _ = bgp.AFI_IP

// Families lists the address families configured for each peer, keyed like
// Stats().Sessions (the peer's address).
func (s *Speaker) Families() map[string][]string {
	out := make(map[string][]string, len(s.cfg.Peers))
	for _, p := range s.cfg.Peers {
		out[p.Address.String()] = append([]string(nil), p.Families...)
	}
	return out
}
