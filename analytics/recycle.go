package analytics

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// recycler is the allocator of the IPC writer: arrow-go allocates, for
// every column of every snapshot, a compression buffer of the column's
// worst-case compressed size (~340 MB for 1M hosts), which the Go
// allocator would zero each time and the GC collect. Buffers of at least
// recycleMin bytes come from power-of-two buckets and go back to them when
// freed, up to recycleMax bytes kept; smaller ones go to mem. Recycled
// memory is not zeroed: arrow-go's writer writes every byte it sends.
type recycler struct {
	mem  memory.Allocator
	mu   sync.Mutex
	free [64][][]byte
	kept int
}

const (
	recycleMin = 1 << 20
	recycleMax = 1 << 30
)

func bucket(size int) int { return bits.Len(uint(size - 1)) }

func (r *recycler) Allocate(size int) []byte {
	if size < recycleMin {
		return r.mem.Allocate(size)
	}
	k := bucket(size)
	r.mu.Lock()
	if n := len(r.free[k]); n > 0 {
		b := r.free[k][n-1]
		r.free[k] = r.free[k][:n-1]
		r.kept -= cap(b)
		r.mu.Unlock()
		return b[:size]
	}
	r.mu.Unlock()
	return make([]byte, size, 1<<k)
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) && (cap(b) < recycleMin) == (size < recycleMin) {
		if cap(b) < recycleMin {
			return r.mem.Reallocate(size, b)
		}
		return b[:size]
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	if cap(b) < recycleMin {
		r.mem.Free(b)
		return
	}
	k := bucket(cap(b))
	if cap(b) != 1<<k {
		return // not one of ours: left to the GC
	}
	r.mu.Lock()
	if r.kept+cap(b) <= recycleMax {
		r.free[k] = append(r.free[k], b[:cap(b)])
		r.kept += cap(b)
	}
	r.mu.Unlock()
}

// release drops the buffers kept.
func (r *recycler) release() {
	r.mu.Lock()
	r.free, r.kept = [64][][]byte{}, 0
	r.mu.Unlock()
}
