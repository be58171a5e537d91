package sensor

import (
	"encoding/binary"
	"time"

	"github.com/rampartnet/rampart/sensor/sample"
)

type sampleStore = sample.Store

// netflowV5 is one NetFlow v5 datagram with one record: 1 packet of 100
// bytes from peer to victim, at sampling interval rate.
func netflowV5(seq uint32, now time.Time, rate uint16) []byte {
	b := make([]byte, 24+48)
	binary.BigEndian.PutUint16(b[0:], 5)
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint32(b[4:], 1000)
	binary.BigEndian.PutUint32(b[8:], uint32(now.Unix()))
	binary.BigEndian.PutUint32(b[16:], seq)
	binary.BigEndian.PutUint16(b[22:], 1<<14|rate)
	r := b[24:]
	copy(r[0:], peer.AsSlice())
	copy(r[4:], victim.AsSlice())
	binary.BigEndian.PutUint32(r[16:], 1)
	binary.BigEndian.PutUint32(r[20:], 100)
	binary.BigEndian.PutUint32(r[24:], 1000)
	binary.BigEndian.PutUint32(r[28:], 1000)
	r[38] = 17
	return b
}
