//go:build nodpdk

package dpdk

// The nodpdk build keeps the API so the rest of the project compiles; every
// constructor fails with ErrNotBuilt, so no Port or RxQueue ever exists.

// InitEAL fails: DPDK is not built in.
func InitEAL(o EALOptions) error { return ErrNotBuilt }

// InitLog is empty without DPDK.
func InitLog() string { return "" }

// CleanupEAL fails: DPDK is not built in.
func CleanupEAL() error { return ErrNotBuilt }

// RegisterThread fails: DPDK is not built in.
func RegisterThread() (int, error) { return 0, ErrNotBuilt }

// UnregisterThread does nothing without DPDK.
func UnregisterThread() {}

// OpenPort fails: DPDK is not built in.
func OpenPort(dev string, cfg PortConfig) (*Port, error) { return nil, ErrNotBuilt }

// Port is never constructed without DPDK.
type Port struct{ info PortInfo }

func (p *Port) ID() uint16                { return 0 }
func (p *Port) Info() PortInfo            { return p.info }
func (p *Port) RxQueues() []*RxQueue      { return nil }
func (p *Port) Link() (Link, error)       { return Link{}, ErrNotBuilt }
func (p *Port) Stats() (PortStats, error) { return PortStats{}, ErrNotBuilt }
func (p *Port) Close() error              { return ErrNotBuilt }

// RxQueue is never constructed without DPDK.
type RxQueue struct{}

func (q *RxQueue) Port() uint16                  { return 0 }
func (q *RxQueue) Queue() uint16                 { return 0 }
func (q *RxQueue) BurstSize() int                { return 0 }
func (q *RxQueue) Burst(max int) int             { return 0 }
func (q *RxQueue) Flush()                        {}
func (q *RxQueue) Len() int                      { return 0 }
func (q *RxQueue) Data(i int) []byte             { return nil }
func (q *RxQueue) PktLen(i int) uint32           { return 0 }
func (q *RxQueue) Packet(i int) ([]byte, uint32) { return nil, 0 }

// ProbeDevice fails: DPDK is not built in.
func ProbeDevice(devargs string) error { return ErrNotBuilt }
