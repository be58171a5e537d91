package packet

// ErrKind is why a frame was skipped. Frames with an IP protocol the
// counters do not distinguish are not errors: they decode, with no ports.
type ErrKind uint8

const (
	ErrTruncated   ErrKind = iota // a header ends past the captured frame or past the IP length
	ErrNonIP                      // EtherType not IP (ARP, LLDP, ...), or an MPLS payload that is not IP
	ErrTooManyTags                // more than MaxVLANTags VLAN tags or MaxMPLSLabels MPLS labels
	ErrBadIPv4                    // IPv4 header: version not 4, IHL < 5, or total length < header length
	ErrBadIPv6                    // IPv6 header: version not 6
	ErrBadIPv6Ext                 // IPv6 extension header chain longer than MaxIPv6Ext
	NumErrKinds
)

var errKindNames = [NumErrKinds]string{
	"truncated", "non_ip", "too_many_tags", "bad_ipv4_header", "bad_ipv6_header", "bad_ipv6_ext",
}

// String is the snake_case name used in reports and metrics.
func (k ErrKind) String() string {
	if k < NumErrKinds {
		return errKindNames[k]
	}
	return "unknown"
}
