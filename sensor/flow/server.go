package flow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/clock"
)

// Sink is what one listener counts into. Its goroutine is the only one to
// use it, so a host table needs no locks.
type Sink struct {
	Counter Counter
	// Tick, when not nil, is called by the listener's goroutine once per
	// tick, after the collector has released the spread shares due: the
	// place to flush the Counter (e.g. hand its deltas to the aggregator).
	Tick func(nowNs int64)
}

// SinkFunc returns the Sink of listener i (of Config.Listeners). The
// Server calls it once per listener, in Start.
type SinkFunc func(i int, l ListenerConfig) Sink

// readBuffer is the size of the one read buffer per listener: the largest
// UDP payload.
const readBuffer = 1 << 16

// socketBuffer is the receive buffer asked of the kernel (it caps it at
// net.core.rmem_max).
const socketBuffer = 8 << 20

// Server runs the UDP listeners of a Config: one goroutine per listener,
// each with its own Collector and Sink, so nothing is shared per record.
type Server struct {
	cfg   Config
	tick  int64
	clk   clock.Clock
	sinks SinkFunc

	conns  []*net.UDPConn
	wg     sync.WaitGroup
	cancel context.CancelFunc

	mu        sync.Mutex
	published []Stats // per listener, refreshed about once a second
}

// NewServer checks cfg; tick is the sensor's tick (how often each listener
// calls Collector.Tick and Sink.Tick) and clk its clock.
func NewServer(cfg Config, tick time.Duration, clk clock.Clock, sinks SinkFunc) (*Server, error) {
	p := validate.New()
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	if tick <= 0 {
		return nil, fmt.Errorf("flow: tick must be > 0, got %v", tick)
	}
	if clk == nil || sinks == nil {
		return nil, errors.New("flow: NewServer needs a clock and a SinkFunc")
	}
	return &Server{cfg: cfg, tick: int64(tick), clk: clk, sinks: sinks, published: make([]Stats, len(cfg.Listeners))}, nil
}

// Start binds every listener (all or none) and starts their goroutines,
// which run until ctx ends or Stop.
func (s *Server) Start(ctx context.Context) error {
	cols := make([]*Collector, len(s.cfg.Listeners))
	sinks := make([]Sink, len(s.cfg.Listeners))
	for i, l := range s.cfg.Listeners {
		protos, err := ProtocolsOf(l.Protocol)
		if err != nil {
			return err
		}
		sinks[i] = s.sinks(i, l)
		if cols[i], err = New(s.cfg, protos, sinks[i].Counter); err != nil {
			return fmt.Errorf("flow: listeners[%d]: %w", i, err)
		}
	}
	for i, l := range s.cfg.Listeners {
		ap, _ := netip.ParseAddrPort(l.Listen) // checked by Validate
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			s.closeAll()
			return fmt.Errorf("flow: listeners[%d]: listen %s: %w", i, l.Listen, err)
		}
		_ = conn.SetReadBuffer(socketBuffer) // best effort: the kernel caps it
		s.conns = append(s.conns, conn)
	}
	ctx, s.cancel = context.WithCancel(ctx)
	for i, conn := range s.conns {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(i, conn, cols[i], sinks[i])
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		s.closeAll()
	}()
	return nil
}

// Stop closes the sockets and waits for the listeners, which count what
// they were still spreading and tick their Sink one last time.
func (s *Server) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

func (s *Server) closeAll() {
	for _, c := range s.conns {
		c.Close()
	}
}

// Addrs returns the bound address of each listener (after Start).
func (s *Server) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.conns))
	for i, c := range s.conns {
		out[i] = c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return out
}

// Stats returns the latest snapshot of each listener's Collector, at most
// about a second old.
func (s *Server) Stats() []Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Stats(nil), s.published...)
}

const publishEvery = int64(time.Second)

// run is one listener's loop: read, decode, count; at each tick boundary
// (a read deadline wakes it when no datagram does) tick the Collector and
// the Sink.
func (s *Server) run(i int, conn *net.UDPConn, col *Collector, sink Sink) {
	buf := make([]byte, readBuffer)
	now := s.clk.Now()
	next, nextPublish := clock.TickEnd(now, s.tick), now
	deadline := func() { _ = conn.SetReadDeadline(time.Now().Add(time.Duration(next - now))) }
	deadline()
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		now = s.clk.Now()
		closed := err != nil && errors.Is(err, net.ErrClosed)
		if err == nil {
			col.HandleDatagram(from, buf[:n], now)
		}
		if now >= next || closed {
			if closed {
				col.Flush(now)
			}
			col.Tick(now)
			if sink.Tick != nil {
				sink.Tick(now)
			}
			if now >= nextPublish || closed {
				st := col.Stats()
				s.mu.Lock()
				s.published[i] = st
				s.mu.Unlock()
				nextPublish = now + publishEvery
			}
			next = clock.TickEnd(now, s.tick)
			deadline()
		}
		if closed {
			return
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			time.Sleep(time.Millisecond) // an unexpected error must not spin a core
		}
	}
}
