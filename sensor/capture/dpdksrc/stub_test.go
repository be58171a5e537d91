//go:build nodpdk

package dpdksrc

import (
	"context"
	"errors"
	"testing"

	"github.com/rampartnet/rampart/dpdk"
)

func TestStartWithoutDPDK(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Ports = []PortConfig{{Device: "net_null0", Queues: 1}}
	cfg.Workers = []int{1}
	s := &Source{cfg: cfg}
	if err := s.Start(context.Background()); !errors.Is(err, dpdk.ErrNotBuilt) {
		t.Fatalf("Start = %v, want %v", err, dpdk.ErrNotBuilt)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop after a failed Start = %v", err)
	}
}
