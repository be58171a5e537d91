package analytics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	pqfile "github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/snapshot"
)

// A Parquet file holds one sensor's hour: the rows of every interval
// compacted into it, sorted by (timestamp, ip), hostgroup as plain strings
// (Parquet dictionary-encodes them itself). Its key-value metadata has the
// keys of an IPC file (start of the first interval, end of the last,
// dropped summed) and rampart.intervals, each interval compacted as
// start_ns,end_ns,dropped,rows separated by ";": the reader gives every
// interval back as the Snapshot it was, empty ones included, and the
// directory reader knows which IPC files the Parquet file covers.
const metaIntervals = "rampart.intervals"

// pqFields are the Parquet columns: those of an IPC file but hostgroup.
var pqFields = func() []arrow.Field {
	f := slices.Clone(fields)
	f[colGroup].Type = arrow.BinaryTypes.String
	return f
}()

// Parquet writing: ZSTD, statistics on every column, row groups of up to
// 1M rows (one interval of a big network, many of a small one).
const (
	pqZstdLevel   = 1
	pqRowGroupLen = 1 << 20
	pqBatchRows   = 64 << 10 // rows per record when reading
	pqMaxPage     = 64 << 20 // a page header declaring more is corrupt (we write 1 MiB pages)
)

// Interval is one snapshot interval compacted into a Parquet file.
type Interval struct {
	Start, End time.Time
	Dropped    uint64
	Rows       int64
}

func formatIntervals(ivs []Interval) string {
	var b strings.Builder
	for i, iv := range ivs {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "%d,%d,%d,%d", iv.Start.UnixNano(), iv.End.UnixNano(), iv.Dropped, iv.Rows)
	}
	return b.String()
}

// parseIntervals parses rampart.intervals; starts must increase.
func parseIntervals(v string) ([]Interval, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ";")
	out := make([]Interval, 0, len(parts))
	for i, p := range parts {
		f := strings.Split(p, ",")
		if len(f) != 4 {
			return nil, fmt.Errorf("metadata %s: entry %d must be start,end,dropped,rows, got %q", metaIntervals, i, p)
		}
		var n [4]int64
		for j, s := range f {
			x, err := strconv.ParseInt(s, 10, 64)
			if err != nil || x < 0 && j > 1 {
				return nil, fmt.Errorf("metadata %s: entry %d: %q is not a valid number", metaIntervals, i, s)
			}
			n[j] = x
		}
		iv := Interval{Start: time.Unix(0, n[0]).UTC(), End: time.Unix(0, n[1]).UTC(), Dropped: uint64(n[2]), Rows: n[3]}
		if !iv.End.After(iv.Start) {
			return nil, fmt.Errorf("metadata %s: entry %d ends %v, not after its start %v", metaIntervals, i, iv.End, iv.Start)
		}
		if i > 0 && !iv.Start.After(out[i-1].Start) {
			return nil, fmt.Errorf("metadata %s: entry %d starts %v, not after entry %d", metaIntervals, i, iv.Start, i-1)
		}
		out = append(out, iv)
	}
	return out, nil
}

// parquetWriter writes snapshots of one sensor, in order of start, as one
// Parquet file.
type parquetWriter struct {
	fw     *pqarrow.FileWriter
	schema *arrow.Schema
	mem    memory.Allocator
	meta   Meta
	keys   []sortKey
	cols   columns
	ivs    []Interval
}

func newParquetWriter(w io.Writer, sensor string, interval time.Duration, mem memory.Allocator) (*parquetWriter, error) {
	md := arrow.NewMetadata([]string{metaVersion, metaSensor, metaInterval},
		[]string{strconv.Itoa(SchemaVersion), sensor, strconv.FormatInt(int64(interval), 10)})
	schema := arrow.NewSchema(pqFields, &md)
	// Counters are plain: with ZSTD level 1 that measured smallest and
	// quickest (BenchmarkCompactHour: dictionaries cost a hash per value
	// and fall back on distinct counters, delta bit-packing compresses
	// worse). The timestamp (one value per interval) and hostgroup are
	// dictionaries.
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(pqZstdLevel),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(pqRowGroupLen),
		parquet.WithSortingColumns([]parquet.SortingColumn{{ColumnIdx: colTimestamp}, {ColumnIdx: colIP}}),
		parquet.WithDictionaryDefault(false),
		parquet.WithDictionaryFor(fields[colTimestamp].Name, true),
		parquet.WithDictionaryFor(fields[colGroup].Name, true),
	}
	for _, f := range fields[colCounts:] {
		opts = append(opts, parquet.WithEncodingFor(f.Name, parquet.Encodings.Plain))
	}
	props := parquet.NewWriterProperties(opts...)
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		return nil, err
	}
	return &parquetWriter{fw: fw, schema: schema, mem: mem, cols: columns{mem: mem},
		meta: Meta{Version: SchemaVersion, SensorID: sensor, Interval: interval}}, nil
}

// add appends s, which must start after the snapshots added before.
func (p *parquetWriter) add(s *Snapshot) error {
	if s.Meta.SensorID != p.meta.SensorID {
		return fmt.Errorf("%s: sensor %q, the file being compacted is of %q", s.Path, s.Meta.SensorID, p.meta.SensorID)
	}
	if n := len(p.ivs); n > 0 && !s.Meta.Start.After(p.ivs[n-1].Start) {
		return fmt.Errorf("%s: starts %v, not after the previous interval %v", s.Path, s.Meta.Start, p.ivs[n-1].Start)
	}
	p.ivs = append(p.ivs, Interval{Start: s.Meta.Start, End: s.Meta.End, Dropped: s.Meta.Dropped, Rows: int64(len(s.Rows))})
	if len(s.Rows) == 0 {
		return nil
	}
	b := &snapshot.Batch{Start: s.Meta.Start.UnixNano(), End: s.Meta.End.UnixNano(), Groups: s.Groups, Rows: s.Rows}
	p.keys = order(b.Rows, p.keys)
	rec := record(&p.cols, p.schema, b, p.keys, runtime.GOMAXPROCS(0))
	defer rec.Release()
	return p.fw.WriteBuffered(rec)
}

// close writes the file-level metadata and the footer.
func (p *parquetWriter) close() error {
	p.cols.release()
	var dropped uint64
	for _, iv := range p.ivs {
		dropped += iv.Dropped
	}
	var start, end time.Time
	if n := len(p.ivs); n > 0 {
		start, end = p.ivs[0].Start, p.ivs[n-1].End
	}
	for _, kv := range [][2]string{
		{metaStart, strconv.FormatInt(start.UnixNano(), 10)},
		{metaEnd, strconv.FormatInt(end.UnixNano(), 10)},
		{metaDropped, strconv.FormatUint(dropped, 10)},
		{metaIntervals, formatIntervals(p.ivs)},
	} {
		if err := p.fw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			_ = p.fw.Close()
			return err
		}
	}
	return p.fw.Close()
}

// ParquetInfo is what a Parquet file's footer says.
type ParquetInfo struct {
	Meta      Meta // Start, End: of the first and last interval; Dropped: summed
	Intervals []Interval
	Rows      int64
}

// parquetReader opens the Parquet file in r with bounded memory and checks
// its footer.
func parquetReader(r parquet.ReaderAtSeeker, lim *limitAllocator) (*pqarrow.FileReader, ParquetInfo, error) {
	var info ParquetInfo
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, info, err
	}
	if err := pqPrecheck(r, size); err != nil {
		return nil, info, err
	}
	props := parquet.NewReaderProperties(lim)
	props.BufferedStreamEnabled = true // never one buffer of a column chunk's declared size
	props.MaxCompressedPageSize = min(pqMaxPage, lim.limit)
	props.MaxUncompressedPageSize = min(pqMaxPage, lim.limit)
	pr, err := pqfile.NewParquetReader(r, pqfile.WithReadProps(props))
	if err != nil {
		return nil, info, err
	}
	// A footer may declare thousands of columns or row groups in a few
	// bytes each; pqarrow sets up readers for all of them before we could
	// look at the schema.
	if n := pr.MetaData().Schema.NumColumns(); n != numCols {
		return nil, info, fmt.Errorf("schema: must have %d columns, got %d", numCols, n)
	}
	if n := pr.NumRowGroups(); n > 1<<16 {
		return nil, info, fmt.Errorf("%d row groups: more than any snapshot file has", n)
	}
	// We never store an Arrow schema; pqarrow would decode one without
	// the checks of precheck.
	kv := pr.MetaData().KeyValueMetadata()
	if kv.FindValue("ARROW:schema") != nil {
		return nil, info, errors.New("metadata ARROW:schema: not in any snapshot file")
	}
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: pqBatchRows}, lim)
	if err != nil {
		return nil, info, err
	}
	schema, err := fr.Schema()
	if err != nil {
		return nil, info, err
	}
	// pqarrow leaves the file's key-value metadata out of the schema.
	md := arrow.NewMetadata(kv.Keys(), kv.Values())
	if info.Meta, err = metaOfFields(arrow.NewSchema(schema.Fields(), &md), pqFields); err != nil {
		return nil, info, err
	}
	i := md.FindKey(metaIntervals)
	if i < 0 {
		return nil, info, fmt.Errorf("metadata %s: missing", metaIntervals)
	}
	if info.Intervals, err = parseIntervals(md.Values()[i]); err != nil {
		return nil, info, err
	}
	for _, iv := range info.Intervals {
		info.Rows += iv.Rows
		if info.Rows < 0 {
			return nil, info, fmt.Errorf("metadata %s: row counts overflow", metaIntervals)
		}
	}
	if got := pr.NumRows(); got != info.Rows {
		return nil, info, fmt.Errorf("file has %d rows, metadata %s says %d", got, metaIntervals, info.Rows)
	}
	return fr, info, nil
}

// decodeParquet reads the Parquet file in r and calls fn with each
// interval in order, using mem for at most limit bytes (Arrow buffers and
// one interval's rows). Problems with the file wrap ErrCorrupt; fn's errors
// are returned as they are.
func decodeParquet(r parquet.ReaderAtSeeker, mem memory.Allocator, limit int64, count bool, fn func(*Snapshot) error) (info ParquetInfo, err error) {
	lim := &limitAllocator{mem: mem, limit: limit}
	var fnErr error
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
		if err != nil && fnErr == nil && !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}()
	fr, info, err := parquetReader(r, lim)
	if err != nil {
		return info, err
	}
	d := &pqDecoder{info: info, limit: limit, count: count, fn: func(s *Snapshot) error {
		fnErr = fn(s)
		return fnErr
	}}
	if len(info.Intervals) > 0 && info.Rows > 0 {
		rr, err := fr.GetRecordReader(context.Background(), nil, nil)
		if err != nil {
			return info, err
		}
		defer rr.Release()
		for rr.Next() {
			if err := d.record(rr.RecordBatch()); err != nil {
				return info, err
			}
		}
		if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
			return info, err
		}
	}
	return info, d.finish()
}

// pqDecoder turns record batches into one Snapshot per interval.
type pqDecoder struct {
	info   ParquetInfo
	limit  int64
	fn     func(*Snapshot) error
	count  bool      // only count rows: snapshots have Meta and no Rows
	next   int       // interval being filled
	cur    *Snapshot // its snapshot, nil before its first row
	have   int64     // rows of it read
	groups map[string]int32
}

const rowSize = int64(unsafe.Sizeof(snapshot.Row{}))

// open starts interval i's snapshot.
func (d *pqDecoder) open() error {
	iv := d.info.Intervals[d.next]
	if iv.Rows > d.limit/rowSize {
		return fmt.Errorf("interval %v: %d rows need more than %d bytes of memory", iv.Start, iv.Rows, d.limit)
	}
	m := d.info.Meta
	m.Start, m.End, m.Dropped = iv.Start, iv.End, iv.Dropped
	d.cur, d.have = &Snapshot{Meta: m}, 0
	d.groups = map[string]int32{}
	if !d.count {
		d.cur.Rows = make([]snapshot.Row, 0, min(iv.Rows, 1<<20))
	}
	return nil
}

// emit hands over the current interval if it is complete, and those after
// it that have no rows.
func (d *pqDecoder) emit() error {
	for d.next < len(d.info.Intervals) {
		if d.cur == nil {
			if err := d.open(); err != nil {
				return err
			}
		}
		if d.have < d.info.Intervals[d.next].Rows {
			return nil
		}
		s := d.cur
		d.cur, d.next = nil, d.next+1
		if err := d.fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (d *pqDecoder) finish() error {
	if err := d.emit(); err != nil {
		return err
	}
	if d.next < len(d.info.Intervals) {
		return fmt.Errorf("interval %v: rows missing", d.info.Intervals[d.next].Start)
	}
	return nil
}

func (d *pqDecoder) record(rec arrow.RecordBatch) error {
	if err := checkRecord(rec, pqFields); err != nil {
		return err
	}
	ts := rec.Column(colTimestamp).(*array.Timestamp).Values()
	ip := rec.Column(colIP).(*array.FixedSizeBinary)
	grp := rec.Column(colGroup).(*array.String)
	var ints [numCols][]int64
	for c := colCounts; c < numCols; c++ {
		ints[c] = rec.Column(c).(*array.Int64).Int64Values()
	}
	for i := range int(rec.NumRows()) {
		if err := d.emit(); err != nil {
			return err
		}
		if d.next == len(d.info.Intervals) {
			return errors.New("more rows than the intervals in the metadata")
		}
		iv := d.info.Intervals[d.next]
		if want := arrow.Timestamp(iv.Start.UnixMicro()); ts[i] != want {
			return fmt.Errorf("row of interval %v has timestamp %v", iv.Start, ts[i].ToTime(arrow.Microsecond))
		}
		d.have++
		if d.count {
			continue
		}
		var r snapshot.Row
		copy(r.Key[:], ip.Value(i))
		r.Group = -1
		if grp.IsValid(i) {
			name := grp.Value(i)
			g, ok := d.groups[name]
			if !ok {
				g = int32(len(d.cur.Groups))
				d.groups[name] = g
				d.cur.Groups = append(d.cur.Groups, strings.Clone(name))
			}
			r.Group = g
		}
		fillRow(&r, &ints, i)
		d.cur.Rows = append(d.cur.Rows, r)
	}
	return nil
}

// checkRecord checks a record's columns against want: lengths, nulls,
// no negative counters.
func checkRecord(rec arrow.RecordBatch, want []arrow.Field) error {
	if err := array.ValidateRecordFull(rec); err != nil {
		return err
	}
	if int(rec.NumCols()) != len(want) {
		return fmt.Errorf("%d columns, want %d", rec.NumCols(), len(want))
	}
	n := int(rec.NumRows())
	for c := range int(rec.NumCols()) {
		col := rec.Column(c)
		if !arrow.TypeEqual(col.DataType(), want[c].Type) {
			return fmt.Errorf("column %s: type %s, want %s", want[c].Name, col.DataType(), want[c].Type)
		}
		if col.Len() != n {
			return fmt.Errorf("column %s: %d values, want %d", want[c].Name, col.Len(), n)
		}
		if !want[c].Nullable && col.NullN() != 0 {
			return fmt.Errorf("column %s: %d nulls, want none", want[c].Name, col.NullN())
		}
	}
	for c := colCounts; c < numCols; c++ {
		v := rec.Column(c).(*array.Int64).Int64Values()
		if i := slices.IndexFunc(v, func(v int64) bool { return v < 0 }); i >= 0 {
			return fmt.Errorf("column %s row %d: must be >= 0, got %d", want[c].Name, i, v[i])
		}
	}
	return nil
}

// fillRow sets r's counters from row i of the counter columns.
func fillRow(r *snapshot.Row, ints *[numCols][]int64, i int) {
	for d := range aggregate.NumDirs {
		c := &r.Counts[d]
		for m := range hosts.NumMetrics {
			c.Packets[m] = uint64(ints[countCol(d, m, false)][i])
			c.Bytes[m] = uint64(ints[countCol(d, m, true)][i])
		}
		c.Flows = uint64(ints[flowsCol(d)][i])
		for se := range aggregate.NumSeries {
			r.Peaks[d][se] = uint64(ints[peakCol(d, se)][i])
		}
	}
}

// DecodeParquet reads every interval of a Parquet snapshot file's bytes,
// allocating at most limit bytes at a time. Problems wrap ErrCorrupt.
func DecodeParquet(data []byte, mem memory.Allocator, limit int64) ([]*Snapshot, error) {
	var out []*Snapshot
	_, err := decodeParquet(bytes.NewReader(data), mem, limit, false, func(s *Snapshot) error {
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReadParquet calls fn with each interval of the Parquet file at path, in
// order; one interval is in memory at a time.
func ReadParquet(path string, fn func(*Snapshot) error) (ParquetInfo, error) {
	return readParquet(path, false, fn)
}

// readParquet is ReadParquet; count: snapshots come without their rows,
// which are only counted (and checked).
func readParquet(path string, count bool, fn func(*Snapshot) error) (ParquetInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return ParquetInfo{}, err
	}
	defer f.Close()
	info, err := decodeParquet(f, memory.DefaultAllocator, DefaultReadLimit, count, func(s *Snapshot) error {
		s.Path = path
		return fn(s)
	})
	if err != nil && errors.Is(err, ErrCorrupt) {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return info, err
}

// StatParquet reads only the footer of the Parquet file at path.
func StatParquet(path string) (ParquetInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return ParquetInfo{}, err
	}
	defer f.Close()
	info, err := func() (info ParquetInfo, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		_, info, err = parquetReader(f, &limitAllocator{mem: memory.DefaultAllocator, limit: DefaultReadLimit})
		return info, err
	}()
	if err != nil {
		return info, fmt.Errorf("%s: %w: %v", path, ErrCorrupt, err)
	}
	return info, nil
}
