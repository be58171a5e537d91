package main

import (
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
)

// firstSeen watches an interface with its own AF_PACKET socket and, once
// armed, reports when the first IPv4 frame to dst arrives: the attack's
// start on the wire, which tcpreplay's start-up does not blur.
type firstSeen struct {
	fd    int
	dst   [4]byte
	armed atomic.Bool
	stop  atomic.Bool
	seen  chan time.Time
	done  chan struct{}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func watchFirst(iface string, dst netip.Addr) (*firstSeen, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL)))
	if err != nil {
		return nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	tv := syscall.Timeval{Usec: 100000} // the loop checks stop at least this often
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := &firstSeen{fd: fd, dst: dst.As4(), seen: make(chan time.Time, 1), done: make(chan struct{})}
	go f.loop()
	return f, nil
}

func (f *firstSeen) loop() {
	defer close(f.done)
	buf := make([]byte, 2048)
	for !f.stop.Load() {
		n, _, err := syscall.Recvfrom(f.fd, buf, 0)
		if err != nil || n < 34 || !f.armed.Load() {
			continue
		}
		if buf[12] == 0x08 && buf[13] == 0x00 && [4]byte(buf[30:34]) == f.dst {
			at := time.Now()
			f.armed.Store(false)
			select {
			case f.seen <- at:
			default:
			}
		}
	}
}

// arm forgets an earlier sighting and reports the next one.
func (f *firstSeen) arm() {
	select {
	case <-f.seen:
	default:
	}
	f.armed.Store(true)
}

func (f *firstSeen) close() {
	f.stop.Store(true)
	<-f.done
	syscall.Close(f.fd)
}
