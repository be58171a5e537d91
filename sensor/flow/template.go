package flow

import (
	"bytes"
	"encoding/binary"
)

// maxTemplateFields bounds the fields of one template (the formats allow
// 65535; real templates have tens).
const maxTemplateFields = 512

// varLen is the field length that announces a variable-length IPFIX field.
const varLen = 0xffff

// template is a compiled NetFlow v9 or IPFIX (options) template.
type template struct {
	raw      []byte   // the template record as received, to recognise a refresh
	fields   []tfield // every field, in order (scope fields first)
	picks    []pick   // the fields read, at their offsets (fixed-length templates)
	recLen   int      // record length; for variable-length templates the minimum
	variable bool
	options  bool
	lastNs   int64
}

type tfield struct {
	length uint16
	what   uint8
}

type pick struct {
	off, length uint16
	what        uint8
}

// templateKey scopes a template ID to its format and observation domain.
func templateKey(format uint8, domain uint32, id uint16) uint64 {
	return uint64(format)<<48 | uint64(domain)<<16 | uint64(id)
}

// fieldReader walks the field specifiers of a template record.
type fieldReader struct {
	b     []byte
	ipfix bool
}

// next returns the next field; ok is false when the record is cut short.
// Enterprise-specific IPFIX fields are skipped, whatever their number.
func (fr *fieldReader) next() (f tfield, ok bool) {
	if len(fr.b) < 4 {
		return f, false
	}
	ie, n := binary.BigEndian.Uint16(fr.b), binary.BigEndian.Uint16(fr.b[2:])
	fr.b = fr.b[4:]
	f.length = n
	if fr.ipfix && ie&0x8000 != 0 {
		if len(fr.b) < 4 {
			return f, false
		}
		fr.b = fr.b[4:]
		return f, true
	}
	if n == varLen && !fr.ipfix {
		return f, false // NetFlow v9 has no variable-length fields
	}
	f.what = ieWhat(ie)
	return f, true
}

// addTemplate compiles the template record raw (fields after the record
// header) of nFields fields, the first nScope of which are options scope
// fields, and stores it; it returns the bytes after the record. A record
// identical to the stored one only refreshes it.
func (c *Collector) addTemplate(e *exporter, key uint64, raw []byte, nFields, nScope int, options, ipfix, v9Scope bool, nowNs int64) (rest []byte, kind ErrKind, ok bool) {
	if nFields == 0 || nFields > maxTemplateFields {
		return nil, ErrBadTemplate, false
	}
	fr := fieldReader{b: raw, ipfix: ipfix}
	for range nFields {
		if _, ok := fr.next(); !ok {
			return nil, ErrTruncated, false
		}
	}
	body := raw[:len(raw)-len(fr.b)]
	rest = fr.b
	if t := e.templates[key]; t != nil {
		if t.options == options && bytes.Equal(t.raw, body) {
			t.lastNs = nowNs
			return rest, 0, true
		}
	} else if len(e.templates) >= c.maxTmpl {
		return rest, ErrTemplateLimit, false
	}
	t := &template{raw: bytes.Clone(body), fields: make([]tfield, 0, nFields), options: options, lastNs: nowNs}
	fr = fieldReader{b: body, ipfix: ipfix}
	for i := range nFields {
		f, _ := fr.next()
		if i < nScope && v9Scope { // v9 scope types are not information elements
			f.what = wSkip
		}
		if f.length == varLen {
			t.variable = true
			t.recLen++
		} else {
			if f.what != wSkip && f.length > 0 {
				t.picks = append(t.picks, pick{off: uint16(min(t.recLen, 0xffff)), length: f.length, what: f.what})
			}
			t.recLen += int(f.length)
		}
		t.fields = append(t.fields, f)
	}
	if t.recLen == 0 || t.recLen > 0xffff {
		return rest, ErrBadTemplate, false // records of length 0 would never end a set
	}
	e.templates[key] = t
	return rest, 0, true
}

// lookup returns the live template of key, or nil.
func (c *Collector) lookup(e *exporter, key uint64, nowNs int64) *template {
	t := e.templates[key]
	if t != nil && nowNs-t.lastNs > c.expiry {
		delete(e.templates, key)
		return nil
	}
	return t
}

// dataSet decodes the records of one data set with template t and returns
// how many there were.
func (c *Collector) dataSet(e *exporter, s *stream, t *template, set []byte, nowNs int64) (n uint32, kind ErrKind, ok bool) {
	for len(set) >= t.recLen {
		r := c.newRec()
		if t.variable {
			var cut bool
			if set, cut = walkRecord(r, t.fields, set); cut {
				return n, ErrTruncated, false
			}
		} else {
			for _, p := range t.picks {
				r.set(p.what, set[p.off:int(p.off)+int(p.length)])
			}
			set = set[t.recLen:]
		}
		n++
		if t.options {
			s.setSampling(r)
			continue
		}
		c.record(e, s, r, nowNs)
	}
	return n, 0, true // what is left is padding
}

// walkRecord reads one record of a template with variable-length fields
// and returns the bytes after it; cut is true when it overruns b.
func walkRecord(r *rec, fields []tfield, b []byte) (rest []byte, cut bool) {
	for _, f := range fields {
		n := int(f.length)
		if f.length == varLen {
			if len(b) < 1 {
				return nil, true
			}
			n, b = int(b[0]), b[1:]
			if n == 0xff {
				if len(b) < 2 {
					return nil, true
				}
				n, b = int(binary.BigEndian.Uint16(b)), b[2:]
			}
		}
		if len(b) < n {
			return nil, true
		}
		if f.what != wSkip && n > 0 {
			r.set(f.what, b[:n])
		}
		b = b[n:]
	}
	return b, false
}
