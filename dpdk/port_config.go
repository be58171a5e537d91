package dpdk

import "fmt"

// Port limits the binding holds itself to.
const (
	// MaxBurst bounds a receive burst (and the C mbuf array per queue).
	MaxBurst = 512
	// MaxQueueStats is RTE_ETHDEV_QUEUE_STAT_CNTRS: ethdev keeps per-queue
	// counters for this many queues per port.
	MaxQueueStats = 16
	// maxMempoolCache is RTE_MEMPOOL_CACHE_MAX_SIZE.
	maxMempoolCache = 512
)

// PortConfig is how one ethdev port is set up.
type PortConfig struct {
	RxQueues      int  // receive queues, one per worker; >= 1
	RxDescriptors int  // ring size per queue; 0 means 1024 (the PMD may adjust it)
	Burst         int  // packets per Burst call; 0 means 64
	MempoolSize   int  // mbufs in the port's pool; 0 sizes it from the queues
	MempoolCache  int  // per-lcore mempool cache; 0 means 256
	Promiscuous   bool // receive frames for every MAC (a mirror port needs it)
}

func (c PortConfig) withDefaults() PortConfig {
	if c.RxDescriptors == 0 {
		c.RxDescriptors = 1024
	}
	if c.Burst == 0 {
		c.Burst = 64
	}
	if c.MempoolCache == 0 {
		c.MempoolCache = 256
	}
	if c.MempoolSize == 0 {
		c.MempoolSize = MempoolSizeFor(c.RxQueues, c.RxDescriptors, c.Burst, c.MempoolCache)
	}
	return c
}

func (c PortConfig) check() error {
	switch {
	case c.RxQueues < 1 || c.RxQueues > 1024:
		return fmt.Errorf("rx queues must be between 1 and 1024, got %d", c.RxQueues)
	case c.RxDescriptors < 1 || c.RxDescriptors > 65535:
		return fmt.Errorf("rx descriptors must be between 1 and 65535, got %d", c.RxDescriptors)
	case c.Burst < 1 || c.Burst > MaxBurst:
		return fmt.Errorf("burst must be between 1 and %d, got %d", MaxBurst, c.Burst)
	case c.MempoolCache < 0 || c.MempoolCache > maxMempoolCache:
		return fmt.Errorf("mempool cache must be between 0 and %d, got %d", maxMempoolCache, c.MempoolCache)
	}
	if need := MempoolMin(c.RxQueues, c.RxDescriptors, c.Burst); c.MempoolSize < need {
		return fmt.Errorf("mempool of %d mbufs cannot fill %d queues of %d descriptors plus a burst of %d each (need >= %d)",
			c.MempoolSize, c.RxQueues, c.RxDescriptors, c.Burst, need)
	}
	return nil
}

// MempoolMin is the fewest mbufs that fill every ring and one burst per
// worker; with fewer, receive stalls for lack of buffers.
func MempoolMin(queues, descriptors, burst int) int { return queues * (descriptors + burst) }

// MempoolSizeFor is the mbuf count that keeps every ring full while each
// worker holds one burst and each lcore cache is full, rounded up to
// 2^k-1 (the ring-backed mempool's best size).
func MempoolSizeFor(queues, descriptors, burst, cache int) int {
	// +1 cache for the main lcore, which frees leftovers at shutdown.
	n := MempoolMin(queues, descriptors, burst) + (queues+1)*cache*3/2
	size := 1
	for size-1 < n {
		size <<= 1
	}
	return size - 1
}

// PortInfo is what the PMD granted when the port was set up.
type PortInfo struct {
	Name          string
	Driver        string
	RxQueues      int
	RxDescriptors int    // after the PMD's adjustment
	MempoolSize   int    // mbufs
	RSSHash       uint64 // RTE_ETH_RSS_* flags in use; 0 when the PMD has no RSS
	SymmetricRSS  bool   // the symmetric Toeplitz key was accepted
	Promiscuous   bool
	Socket        int
}

// Link is the port's link state.
type Link struct {
	Up         bool
	SpeedMbps  uint32
	FullDuplex bool
}

// PortStats are the ethdev counters of one port.
type PortStats struct {
	IPackets, IBytes, IMissed, IErrors, RxNoMbuf uint64
	// Queues are per-queue counters, for the first MaxQueueStats queues.
	Queues []QueueCounters
}

// QueueCounters are the per-queue part of the ethdev counters.
type QueueCounters struct {
	Packets, Bytes, Errors uint64
}
