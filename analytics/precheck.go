package analytics

import (
	"bytes"
	"encoding/binary"
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Arrow's IPC reader sizes slices by vector lengths read from the file's
// footer without checking them against the bytes there, so a corrupt
// length can make it allocate terabytes: an out-of-memory crash no recover
// catches (found by FuzzDecode). precheck walks the footer's schema first
// and rejects a vector longer than the footer could hold. Layout: File.fbs
// and Schema.fbs of the Arrow format; a flatbuffers vtable slot i is at
// 4 + 2i.
const (
	footerSchema   = 1 // Footer.schema
	schemaFields   = 1 // Schema.fields
	schemaMeta     = 2 // Schema.custom_metadata
	fieldTypeType  = 2 // Field.type_type
	fieldChildren  = 5 // Field.children
	fieldMeta      = 6 // Field.custom_metadata
	typeUnion      = 14
	maxFieldDepth  = 64
	arrowMagicTail = "ARROW1"
)

func slot(i int) flatbuffers.VOffsetT { return flatbuffers.VOffsetT(4 + 2*i) }

func precheck(data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("footer: %v", r)
		}
	}()
	n := len(data)
	if n < 10 || !bytes.Equal(data[n-6:], []byte(arrowMagicTail)) {
		return nil // not a file Arrow will get far with: it reports that itself
	}
	size := int(binary.LittleEndian.Uint32(data[n-10:]))
	if size <= 0 || size > n-10 {
		return nil
	}
	buf := data[n-10-size : n-10]
	footer := flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}
	schema, ok := table(&footer, footerSchema)
	if !ok {
		return nil
	}
	if err := vector(&schema, schemaMeta, len(buf), nil); err != nil {
		return err
	}
	return vector(&schema, schemaFields, len(buf), func(f *flatbuffers.Table) error { return checkField(f, len(buf), 0) })
}

func checkField(f *flatbuffers.Table, limit, depth int) error {
	if depth > maxFieldDepth {
		return fmt.Errorf("footer: fields nested deeper than %d", maxFieldDepth)
	}
	if o := f.Offset(slot(fieldTypeType)); o != 0 && f.GetByte(flatbuffers.UOffsetT(o)+f.Pos) == typeUnion {
		return fmt.Errorf("footer: union columns are not in any snapshot schema")
	}
	if err := vector(f, fieldMeta, limit, nil); err != nil {
		return err
	}
	return vector(f, fieldChildren, limit, func(c *flatbuffers.Table) error { return checkField(c, limit, depth+1) })
}

// table is the sub-table in slot i of t.
func table(t *flatbuffers.Table, i int) (flatbuffers.Table, bool) {
	o := flatbuffers.UOffsetT(t.Offset(slot(i)))
	if o == 0 {
		return flatbuffers.Table{}, false
	}
	return flatbuffers.Table{Bytes: t.Bytes, Pos: t.Indirect(o + t.Pos)}, true
}

// vector checks the length of the vector of tables in slot i of t (each
// element takes at least a 4-byte offset) and calls each on its elements.
func vector(t *flatbuffers.Table, i, limit int, each func(*flatbuffers.Table) error) error {
	o := flatbuffers.UOffsetT(t.Offset(slot(i)))
	if o == 0 {
		return nil
	}
	n := t.VectorLen(o)
	if n < 0 || n > limit/4 {
		return fmt.Errorf("footer: vector of %d entries in %d bytes", n, limit)
	}
	if each == nil {
		return nil
	}
	start := t.Vector(o)
	for j := range n {
		e := flatbuffers.Table{Bytes: t.Bytes, Pos: t.Indirect(start + flatbuffers.UOffsetT(4*j))}
		if err := each(&e); err != nil {
			return err
		}
	}
	return nil
}
