package flow

import "encoding/binary"

const v5RecordLen = 48

// decodeV5 decodes a NetFlow v5 datagram: a 24-byte header and up to 30
// fixed records. Times are ms of system uptime; the sampling interval is
// in the header.
func (c *Collector) decodeV5(e *exporter, d []byte, nowNs int64) {
	count := int(binary.BigEndian.Uint16(d[2:]))
	seq := binary.BigEndian.Uint32(d[16:])
	s := e.stream(fmtV5, uint32(d[20])<<8|uint32(d[21]), nowNs)
	if interval := uint64(binary.BigEndian.Uint16(d[22:]) & 0x3fff); interval > 0 {
		s.rate = interval // top 2 bits: sampling mode
	}
	body := d[v5HeaderLen:]
	if len(body) < count*v5RecordLen {
		e.stats.Errors[ErrTruncated]++
		count = len(body) / v5RecordLen
	}
	e.sequence(s, seq, seq+uint32(count), true)
	for i := range count {
		b := body[i*v5RecordLen : (i+1)*v5RecordLen]
		r := c.newRec()
		r.h.Src4 = binary.BigEndian.Uint32(b[0:])
		r.h.Dst4 = binary.BigEndian.Uint32(b[4:])
		r.packets = uint64(binary.BigEndian.Uint32(b[16:]))
		r.octets = uint64(binary.BigEndian.Uint32(b[20:]))
		r.startNs = int64(binary.BigEndian.Uint32(b[24:])) * 1e6
		r.endNs = int64(binary.BigEndian.Uint32(b[28:])) * 1e6
		r.h.SrcPort = binary.BigEndian.Uint16(b[32:])
		r.h.DstPort = binary.BigEndian.Uint16(b[34:])
		r.h.TCPFlags = b[37]
		r.h.Proto = b[38]
		r.have = hSrc4 | hDst4 | hPackets | hOctets | hStart | hEnd
		c.record(e, s, r, nowNs)
	}
}

// Set IDs.
const (
	v9TemplateSet       = 0
	v9OptionsSet        = 1
	ipfixTemplateSet    = 2
	ipfixOptionsSet     = 3
	firstDataSet        = 256
	setHeaderLen        = 4
	v9OptionsRecordHead = 6 // template ID, scope length, option length
	ipfixOptionsHead    = 6 // template ID, field count, scope field count
)

// decodeV9 decodes a NetFlow v9 datagram (RFC 3954). Its sequence number
// counts datagrams per source ID.
func (c *Collector) decodeV9(e *exporter, d []byte, nowNs int64) {
	seq := binary.BigEndian.Uint32(d[12:])
	domain := binary.BigEndian.Uint32(d[16:])
	s := e.stream(fmtV9, domain, nowNs)
	e.sequence(s, seq, seq+1, false)
	c.sets(e, s, fmtV9, domain, d[v9HeaderLen:], nowNs)
}

// decodeIPFIX decodes an IPFIX message (RFC 7011). Its sequence number
// counts data records per observation domain, so it can only be followed
// while every data set decodes.
func (c *Collector) decodeIPFIX(e *exporter, d []byte, nowNs int64) {
	n := int(binary.BigEndian.Uint16(d[2:]))
	switch {
	case n > len(d):
		e.stats.Errors[ErrTruncated]++
		return
	case n < ipfixHeaderLen:
		e.stats.Errors[ErrBadSet]++
		return
	}
	seq := binary.BigEndian.Uint32(d[8:])
	domain := binary.BigEndian.Uint32(d[12:])
	s := e.stream(fmtIPFIX, domain, nowNs)
	records, complete := c.sets(e, s, fmtIPFIX, domain, d[ipfixHeaderLen:n], nowNs)
	e.sequence(s, seq, seq+records, true)
	s.seqValid = complete
}

// sets decodes the sets of a v9 or IPFIX message; it returns the data
// records decoded and whether every data set was.
func (c *Collector) sets(e *exporter, s *stream, format uint8, domain uint32, b []byte, nowNs int64) (records uint32, complete bool) {
	ipfix := format == fmtIPFIX
	complete = true
	for len(b) >= setHeaderLen {
		id, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if n < setHeaderLen {
			e.stats.Errors[ErrBadSet]++
			return records, false
		}
		if n > len(b) {
			e.stats.Errors[ErrTruncated]++
			return records, false
		}
		set := b[setHeaderLen:n]
		b = b[n:]
		var kind ErrKind
		ok := true
		switch {
		case id >= firstDataSet:
			t := c.lookup(e, templateKey(format, domain, id), nowNs)
			if t == nil {
				e.stats.TemplateMisses++
				complete = false
				continue
			}
			var k uint32
			k, kind, ok = c.dataSet(e, s, t, set, nowNs)
			records += k
		case !ipfix && id == v9TemplateSet, ipfix && id == ipfixTemplateSet:
			kind, ok = c.templateSet(e, format, domain, set, nowNs)
		case !ipfix && id == v9OptionsSet:
			kind, ok = c.v9OptionsSet(e, domain, set, nowNs)
		case ipfix && id == ipfixOptionsSet:
			kind, ok = c.ipfixOptionsSet(e, domain, set, nowNs)
		default:
			kind, ok = ErrBadSet, false
		}
		if !ok {
			e.stats.Errors[kind]++
			complete = false
			if kind == ErrTruncated {
				return records, false // the set lied about its content: the rest is suspect
			}
		}
	}
	return records, complete
}

// templateSet stores the template records of a set. An IPFIX record with
// no fields withdraws its template (template ID 2: all of the domain).
func (c *Collector) templateSet(e *exporter, format uint8, domain uint32, set []byte, nowNs int64) (ErrKind, bool) {
	ipfix := format == fmtIPFIX
	for len(set) >= 4 {
		id, nf := binary.BigEndian.Uint16(set), int(binary.BigEndian.Uint16(set[2:]))
		if ipfix && nf == 0 {
			c.withdraw(e, format, domain, id)
			set = set[4:]
			continue
		}
		if id < firstDataSet {
			return ErrBadTemplate, false
		}
		rest, kind, ok := c.addTemplate(e, templateKey(format, domain, id), set[4:], nf, 0, false, ipfix, false, nowNs)
		if !ok {
			return kind, false
		}
		set = rest
	}
	return 0, true
}

func (c *Collector) withdraw(e *exporter, format uint8, domain uint32, id uint16) {
	if id != ipfixTemplateSet {
		delete(e.templates, templateKey(format, domain, id))
		return
	}
	for k := range e.templates {
		if k>>16 == templateKey(format, domain, 0)>>16 {
			delete(e.templates, k)
		}
	}
}

// v9OptionsSet stores NetFlow v9 options templates, whose scope and option
// lengths are in bytes.
func (c *Collector) v9OptionsSet(e *exporter, domain uint32, set []byte, nowNs int64) (ErrKind, bool) {
	for len(set) >= v9OptionsRecordHead {
		id := binary.BigEndian.Uint16(set)
		scopeLen, optLen := int(binary.BigEndian.Uint16(set[2:])), int(binary.BigEndian.Uint16(set[4:]))
		if id < firstDataSet || scopeLen%4 != 0 || optLen%4 != 0 {
			return ErrBadTemplate, false
		}
		rest, kind, ok := c.addTemplate(e, templateKey(fmtV9, domain, id), set[v9OptionsRecordHead:],
			(scopeLen+optLen)/4, scopeLen/4, true, false, true, nowNs)
		if !ok {
			return kind, false
		}
		set = rest
	}
	return 0, true // up to 5 bytes of padding
}

// ipfixOptionsSet stores IPFIX options templates. Their scope fields are
// information elements (a selectorId scope names the sampler).
func (c *Collector) ipfixOptionsSet(e *exporter, domain uint32, set []byte, nowNs int64) (ErrKind, bool) {
	for len(set) >= ipfixOptionsHead {
		id := binary.BigEndian.Uint16(set)
		nf, ns := int(binary.BigEndian.Uint16(set[2:])), int(binary.BigEndian.Uint16(set[4:]))
		if nf == 0 {
			c.withdraw(e, fmtIPFIX, domain, id)
			set = set[4:]
			continue
		}
		if id < firstDataSet || ns == 0 || ns > nf {
			return ErrBadTemplate, false
		}
		rest, kind, ok := c.addTemplate(e, templateKey(fmtIPFIX, domain, id), set[ipfixOptionsHead:], nf, ns, true, true, false, nowNs)
		if !ok {
			return kind, false
		}
		set = rest
	}
	return 0, true
}
