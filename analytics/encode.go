package analytics

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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

// order returns the rows' indexes sorted by ip.
func order(rows []snapshot.Row, keys []sortKey) []sortKey {
	keys = keys[:0]
	for i := range rows {
		k := &rows[i].Key
		keys = append(keys, sortKey{binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:]), int32(i)})
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.hi != b.hi {
			if a.hi < b.hi {
				return -1
			}
			return 1
		}
		if a.lo != b.lo {
			if a.lo < b.lo {
				return -1
			}
			return 1
		}
		return int(a.row - b.row) // equal keys keep their order
	})
	return keys
}

// record builds the Arrow record of a batch, rows sorted by ip. The caller
// releases it.
func record(mem memory.Allocator, schema *arrow.Schema, b *snapshot.Batch, keys []sortKey) arrow.RecordBatch {
	n := len(keys)
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	for c := range colCounts {
		rb.Field(c).Reserve(n)
	}

	ts := rb.Field(colTimestamp).(*array.TimestampBuilder)
	start := arrow.Timestamp(time.Unix(0, b.Start).UnixMicro())
	ip := rb.Field(colIP).(*array.FixedSizeBinaryBuilder)
	// Arrow IPC files carry hostgroup as a dictionary; Parquet files as
	// plain strings (Parquet dictionary-encodes them itself).
	grp, _ := rb.Field(colGroup).(*array.BinaryDictionaryBuilder)
	str, _ := rb.Field(colGroup).(*array.StringBuilder)
	dict, remap := groupDict(mem, b.Groups)
	defer dict.Release()
	if grp != nil {
		if err := grp.InsertStringDictValues(dict); err != nil {
			panic(err) // only a type mismatch fails, and the schema fixes the type
		}
	}
	gidx, gvalid := make([]int, 0, n), make([]bool, 0, n)
	// Counters go straight into column buffers: no validity bitmaps (the
	// columns have no nulls) and no per-value builder calls.
	var bufs [numCols]*memory.Buffer
	var ints [numCols][]int64
	for c := colCounts; c < numCols; c++ {
		bufs[c] = memory.NewResizableBuffer(mem)
		bufs[c].Resize(n * arrow.Int64SizeBytes)
		ints[c] = arrow.Int64Traits.CastFromBytes(bufs[c].Bytes())
	}
	for j, k := range keys {
		r := &b.Rows[k.row]
		ts.UnsafeAppend(start)
		ip.Append(r.Key[:])
		g := int(r.Group)
		if ok := g >= 0 && g < len(remap); ok {
			gidx, gvalid = append(gidx, remap[g]), append(gvalid, true)
		} else {
			gidx, gvalid = append(gidx, 0), append(gvalid, false)
		}
		for d := range aggregate.NumDirs {
			c := &r.Counts[d]
			for m := range hosts.NumMetrics {
				ints[countCol(d, m, false)][j] = int64(c.Packets[m])
				ints[countCol(d, m, true)][j] = int64(c.Bytes[m])
			}
			ints[flowsCol(d)][j] = int64(c.Flows)
			for s := range aggregate.NumSeries {
				ints[peakCol(d, s)][j] = int64(r.Peaks[d][s])
			}
		}
	}
	if grp != nil {
		grp.AppendIndices(gidx, gvalid)
	} else {
		for i, j := range gidx {
			if gvalid[i] {
				str.Append(dict.Value(j))
			} else {
				str.AppendNull()
			}
		}
	}
	cols := make([]arrow.Array, numCols)
	for c := range colCounts {
		cols[c] = rb.Field(c).NewArray()
	}
	for c := colCounts; c < numCols; c++ {
		data := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, bufs[c]}, nil, 0, 0)
		cols[c] = array.NewInt64Data(data)
		data.Release()
		bufs[c].Release()
	}
	rec := array.NewRecordBatch(schema, cols, int64(n))
	for _, a := range cols {
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
