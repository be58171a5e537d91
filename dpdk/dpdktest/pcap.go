// Package dpdktest holds helpers for tests and benchmarks of DPDK capture:
// pcap files for net_pcap to replay. It uses no cgo.
package dpdktest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
)

// WritePcap writes frames as a classic little-endian pcap file (Ethernet
// link type, microsecond timestamps one apart).
func WritePcap(path string, frames [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	w.Write(hdr[:])
	for i, fr := range frames {
		var rec [16]byte
		binary.LittleEndian.PutUint32(rec[0:], uint32(i/1000000))
		binary.LittleEndian.PutUint32(rec[4:], uint32(i%1000000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(fr)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(fr)))
		w.Write(rec[:])
		w.Write(fr)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// UDPFrame is an Ethernet/IPv4/UDP frame of size bytes (at least 42) from
// 192.0.2.1 to 10.0.x.y where x.y is host (mod 65536), with the host index
// and seq stamped into the payload when it has room.
func UDPFrame(size, host int, seq uint32) []byte {
	if size < 42 {
		size = 42
	}
	b := make([]byte, size)
	copy(b[0:6], []byte{0x02, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{0x02, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:16], []byte{192, 0, 2, 1})
	copy(ip[16:20], []byte{10, 0, byte(host >> 8), byte(host)})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 1024+uint16(seq%50000))
	binary.BigEndian.PutUint16(udp[2:], 53)
	binary.BigEndian.PutUint16(udp[4:], uint16(size-34))
	if len(udp) >= 16 {
		binary.BigEndian.PutUint32(udp[8:], uint32(host))
		binary.BigEndian.PutUint32(udp[12:], seq)
	}
	return b
}

// MixedFrames returns n frames of varied sizes (60 to 1514 bytes) to n
// different hosts, so byte counts catch length mistakes.
func MixedFrames(n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = UDPFrame(60+(i*97)%1455, i, uint32(i))
	}
	return frames
}
