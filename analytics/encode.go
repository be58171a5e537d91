package analytics

import (
	"encoding/binary"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/snapshot"
)

// sortKey orders rows by address without moving the (large) rows.
type sortKey struct {
	hi, lo uint64
	row    int32
}

// order returns the rows' indexes sorted by ip (equal keys in row order):
// a stable LSD radix sort over the key bytes that differ between rows
// (4 for IPv4 hosts, which share their first 12), ~10x quicker than a
// comparison sort of a million keys. tmp is scratch, reused.
func order(rows []snapshot.Row, keys []sortKey) []sortKey {
	// keys' capacity holds the radix sort's scratch too, for the next call.
	if cap(keys) < 2*len(rows) {
		keys = make([]sortKey, 0, 2*len(rows))
	}
	keys = keys[:0]
	var diff [16]byte
	for i := range rows {
		k := &rows[i].Key
		for j := range diff {
			diff[j] |= k[j] ^ rows[0].Key[j]
		}
		keys = append(keys, sortKey{binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:]), int32(i)})
	}
	if len(keys) < 256 {
		slices.SortStableFunc(keys, func(a, b sortKey) int {
			if c := cmpUint(a.hi, b.hi); c != 0 {
				return c
			}
			return cmpUint(a.lo, b.lo)
		})
		return keys
	}
	src, dst := keys, keys[len(keys):2*len(keys)]
	for j := 15; j >= 0; j-- { // least significant byte first
		if diff[j] == 0 {
			continue
		}
		var count [257]int
		digit := func(k *sortKey) byte {
			if j < 8 {
				return byte(k.hi >> (8 * (7 - j)))
			}
			return byte(k.lo >> (8 * (15 - j)))
		}
		for i := range src {
			count[int(digit(&src[i]))+1]++
		}
		for d := 1; d < 257; d++ {
			count[d] += count[d-1]
		}
		for i := range src {
			d := digit(&src[i])
			dst[count[d]] = src[i]
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	return keys
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// columns are the buffers a record is built in, kept from one snapshot
// to the next: a 1M-host snapshot is ~330 MB of columns, which the Go
// allocator would otherwise zero every interval. A record built in them
// must be released before the next is built.
type columns struct {
	mem   memory.Allocator
	bufs  [numCols]*memory.Buffer // colGroup: dictionary indices (IPC only)
	valid *memory.Buffer          // hostgroup validity
}

func (c *columns) buf(i, size int) *memory.Buffer {
	if c.bufs[i] == nil {
		c.bufs[i] = memory.NewResizableBuffer(c.mem)
	}
	c.bufs[i].ResizeNoShrink(size)
	return c.bufs[i]
}

// release frees the buffers.
func (c *columns) release() {
	for i, b := range c.bufs {
		if b != nil {
			b.Release()
			c.bufs[i] = nil
		}
	}
	if c.valid != nil {
		c.valid.Release()
		c.valid = nil
	}
}

// rowOffset is where in a snapshot.Row the value of each counter column
// is (int64 columns hold the uint64 counters as they are).
var rowOffset = func() (off [numCols]uintptr) {
	var r snapshot.Row
	base := uintptr(unsafe.Pointer(&r))
	for d := range aggregate.NumDirs {
		c := &r.Counts[d]
		for m := range hosts.NumMetrics {
			off[countCol(d, m, false)] = uintptr(unsafe.Pointer(&c.Packets[m])) - base
			off[countCol(d, m, true)] = uintptr(unsafe.Pointer(&c.Bytes[m])) - base
		}
		off[flowsCol(d)] = uintptr(unsafe.Pointer(&c.Flows)) - base
		for s := range aggregate.NumSeries {
			off[peakCol(d, s)] = uintptr(unsafe.Pointer(&r.Peaks[d][s])) - base
		}
	}
	return off
}()

const prefetchDist = 16

// fillChunk is the fewest rows worth a goroutine of their own (a
// variable for tests); chunks start at multiples of 8 so that no two share
// a byte of a bitmap.
var fillChunk = 64 << 10

// record builds the Arrow record of a batch in cols, rows in the order of
// keys (sorted by ip), without builders: each column's values are written
// straight into its buffer, by up to par goroutines. The caller releases
// it, before building another in cols.
func record(cols *columns, schema *arrow.Schema, b *snapshot.Batch, keys []sortKey, par int) arrow.RecordBatch {
	n := len(keys)
	var ints [numCols][]int64
	for c := range numCols {
		if c == colGroup || c == colIP {
			continue
		}
		ints[c] = arrow.Int64Traits.CastFromBytes(cols.buf(c, n*arrow.Int64SizeBytes).Bytes())
	}
	ips := cols.buf(colIP, n*16).Bytes()
	dict, remap := groupDict(cols.mem, b.Groups)
	defer dict.Release()
	_, isDict := schema.Field(colGroup).Type.(*arrow.DictionaryType)
	var gidx []int32
	var valid []byte
	if isDict {
		gidx = arrow.Int32Traits.CastFromBytes(cols.buf(colGroup, n*arrow.Int32SizeBytes).Bytes())
		if cols.valid == nil {
			cols.valid = memory.NewResizableBuffer(cols.mem)
		}
		cols.valid.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
		valid = cols.valid.Bytes()
	}
	start := int64(time.Unix(0, b.Start).UnixMicro())
	var colBase [numCols]unsafe.Pointer // where each counter column's values start
	for c := colCounts; c < numCols && n > 0; c++ {
		colBase[c] = unsafe.Pointer(&ints[c][0])
	}
	fill := func(lo, hi int) (nulls int) {
		// Rows are read in ip order, all over memory: each is a cache and
		// TLB miss. Prefetching the row prefetchDist ahead lets the
		// misses overlap.
		for j := lo; j < hi; j++ {
			if a := j + prefetchDist; a < hi {
				prefetchRow(unsafe.Pointer(&b.Rows[keys[a].row]))
			}
			r := &b.Rows[keys[j].row]
			ints[colTimestamp][j] = start
			copy(ips[j*16:j*16+16], r.Key[:])
			if isDict {
				if g := int(r.Group); g >= 0 && g < len(remap) {
					gidx[j] = int32(remap[g])
					bitutil.SetBit(valid, j)
				} else {
					gidx[j] = 0
					bitutil.ClearBit(valid, j)
					nulls++
				}
			}
			p := unsafe.Pointer(r)
			for c := colCounts; c < numCols; c++ {
				*(*uint64)(unsafe.Add(colBase[c], j*8)) = *(*uint64)(unsafe.Add(p, rowOffset[c]))
			}
		}
		return nulls
	}
	nulls := 0
	if workers := min(par, n/fillChunk); workers > 1 {
		per := ((n+workers-1)/workers + 7) &^ 7
		counts := make([]int, workers)
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := min(w*per, n), min((w+1)*per, n)
			wg.Go(func() { counts[w] = fill(lo, hi) })
		}
		wg.Wait()
		for _, c := range counts {
			nulls += c
		}
	} else {
		nulls = fill(0, n)
	}

	arrs := make([]arrow.Array, numCols)
	newData := func(t arrow.DataType, bufs ...*memory.Buffer) arrow.ArrayData {
		return array.NewData(t, n, bufs, nil, 0, 0)
	}
	for c := range numCols {
		var d arrow.ArrayData
		switch c {
		case colTimestamp:
			d = newData(timestampType, nil, cols.bufs[c])
		case colIP:
			d = newData(ipType, nil, cols.bufs[c])
		case colGroup:
			continue
		default:
			d = newData(arrow.PrimitiveTypes.Int64, nil, cols.bufs[c])
		}
		arrs[c] = array.MakeFromData(d)
		d.Release()
	}
	if isDict {
		vb := cols.valid
		if nulls == 0 {
			vb = nil
		}
		idxData := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{vb, cols.bufs[colGroup]}, nil, nulls, 0)
		idx := array.MakeFromData(idxData)
		idxData.Release()
		arrs[colGroup] = array.NewDictionaryArray(groupType, idx, dict)
		idx.Release()
	} else {
		// Parquet: plain strings, which Parquet dictionary-encodes itself.
		sb := array.NewStringBuilder(cols.mem)
		sb.Reserve(n)
		for _, k := range keys {
			if g := int(b.Rows[k.row].Group); g >= 0 && g < len(remap) {
				sb.Append(dict.Value(remap[g]))
			} else {
				sb.AppendNull()
			}
		}
		arrs[colGroup] = sb.NewArray()
		sb.Release()
	}
	rec := array.NewRecordBatch(schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// groupDict is the dictionary of group names, each once, and the index in
// it of each of names.
func groupDict(mem memory.Allocator, names []string) (*array.String, []int) {
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	first := make(map[string]int, len(names))
	remap := make([]int, len(names))
	for i, n := range names {
		j, ok := first[n]
		if !ok {
			j = len(first)
			first[n] = j
			sb.Append(n)
		}
		remap[i] = j
	}
	return sb.NewStringArray(), remap
}
