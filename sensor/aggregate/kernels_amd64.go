package aggregate

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/rampartnet/rampart/sensor/hosts"
)

// useAVX512 picks the kernels of kernels_amd64.s: AVX-512F with 256-bit
// forms (VL), which x/sys/cpu reports only when the OS saves the registers.
var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL

// The kernels address fields by these offsets: a layout change must fail
// the build, not the counts.
var (
	_ = [1]struct{}{}[unsafe.Offsetof(hosts.Delta{}.In)-16]
	_ = [1]struct{}{}[unsafe.Offsetof(hosts.Delta{}.Out)-120]
	_ = [1]struct{}{}[unsafe.Offsetof(hosts.Counters{}.Bytes)-48]
	_ = [1]struct{}{}[unsafe.Offsetof(hosts.Counters{}.Flows)-96]
	_ = [1]struct{}{}[unsafe.Sizeof(hosts.Counters{})-104]
	_ = [1]struct{}{}[unsafe.Offsetof(counts{}.n)-16]
	_ = [1]struct{}{}[unsafe.Sizeof(counts{})-72]
	_ = [1]struct{}{}[unsafe.Sizeof(sums{})-128]
	_ = [1]struct{}{}[slotFlows-6]
	_ = [1]struct{}{}[slotBytes-7]
)

//go:noescape
func addBothAVX512(dst *[NumDirs]hosts.Counters, x *hosts.Delta)

//go:noescape
func setAVX512(c *counts, x *hosts.Delta)

//go:noescape
func addAVX512(c *counts, x *hosts.Delta)

//go:noescape
func subAVX512(s *sums, c *counts)

//go:noescape
func addRaiseAVX512(s *sums, c, p *counts)
