//go:build amd64

#include "textflag.h"

// AVX-512 forms of the per-host arithmetic in series.go; each must give what
// its Go form gives, bit for bit (kernels_test.go). One 512-bit register holds
// one direction: lanes 0-5 packets per metric, 6 new flows, 7 bytes, the
// slots of sums. Offsets are pinned by the asserts in kernels_amd64.go.
//
// Masks: K1 lane 6, K2 lanes 0-6 (the narrow counts), K3 lane 7.

#define MASKS \
	MOVL $0x40, AX \
	KMOVW AX, K1 \
	MOVL $0x7f, AX \
	KMOVW AX, K2 \
	MOVL $0x80, AX \
	KMOVW AX, K3

// DELTA loads direction off of a hosts.Delta at SI: packets per metric and
// flows in lanes 0-6 (lane 7 holds Bytes[1], unused).
#define DELTA(off, z) \
	VMOVDQU64 off(SI), z \
	VPBROADCASTQ off+96(SI), K1, z

// NARROW loads direction d of counts at ptr as sums slots: the narrow counts
// widened in lanes 0-6, bytes in lane 7.
#define NARROW(ptr, d, y, z) \
	VMOVDQU32.Z 16+28*d(ptr), K2, y \
	VPMOVZXDQ y, z \
	VPBROADCASTQ 8*d(ptr), K3, z

// func addBothAVX512(dst *[NumDirs]hosts.Counters, x *hosts.Delta)
TEXT ·addBothAVX512(SB), NOSPLIT, $0-16
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	VMOVDQU64 16(SI), Z0
	VMOVDQU64 80(SI), Z1
	VMOVDQU64 144(SI), Z2
	VMOVDQU 208(SI), X3
	VPADDQ (DI), Z0, Z0
	VPADDQ 64(DI), Z1, Z1
	VPADDQ 128(DI), Z2, Z2
	VPADDQ 192(DI), X3, X3
	VMOVDQU64 Z0, (DI)
	VMOVDQU64 Z1, 64(DI)
	VMOVDQU64 Z2, 128(DI)
	VMOVDQU X3, 192(DI)
	VZEROUPPER
	RET

// func setAVX512(c *counts, x *hosts.Delta)
TEXT ·setAVX512(SB), NOSPLIT, $0-16
	MOVQ c+0(FP), DI
	MOVQ x+8(FP), SI
	MASKS
	DELTA(16, Z0)
	VPMOVUSQD Z0, Y1
	VMOVDQU32 Y1, K2, 16(DI)
	MOVQ 64(SI), AX
	MOVQ AX, 0(DI)
	DELTA(120, Z0)
	VPMOVUSQD Z0, Y1
	VMOVDQU32 Y1, K2, 44(DI)
	MOVQ 168(SI), AX
	MOVQ AX, 8(DI)
	VZEROUPPER
	RET

// func addAVX512(c *counts, x *hosts.Delta)
TEXT ·addAVX512(SB), NOSPLIT, $0-16
	MOVQ c+0(FP), DI
	MOVQ x+8(FP), SI
	MASKS
	// Both directions are loaded before either is stored: a load behind a
	// masked store to the same 64 bytes waits for it to retire.
	NARROW(DI, 0, Y2, Z2)
	NARROW(DI, 1, Y3, Z3)
	DELTA(16, Z0)
	DELTA(120, Z1)
	VPADDQ Z2, Z0, Z0
	VPADDQ Z3, Z1, Z1
	VPMOVUSQD Z0, Y0
	VPMOVUSQD Z1, Y1
	VMOVDQU32 Y0, K2, 16(DI)
	VMOVDQU32 Y1, K2, 44(DI)
	MOVQ 64(SI), AX
	ADDQ AX, 0(DI)
	MOVQ 168(SI), AX
	ADDQ AX, 8(DI)
	VZEROUPPER
	RET

// func subAVX512(s *sums, c *counts)
TEXT ·subAVX512(SB), NOSPLIT, $0-16
	MOVQ s+0(FP), DI
	MOVQ c+8(FP), SI
	MASKS
	NARROW(SI, 0, Y0, Z0)
	VMOVDQU64 0(DI), Z1
	VPSUBQ Z0, Z1, Z1
	VMOVDQU64 Z1, 0(DI)
	NARROW(SI, 1, Y0, Z0)
	VMOVDQU64 64(DI), Z1
	VPSUBQ Z0, Z1, Z1
	VMOVDQU64 Z1, 64(DI)
	VZEROUPPER
	RET

// RAISE adds direction d of the counts in Zc to the sums at DI and lifts
// the peak in Zp, stored at DX: Z7 saturates lanes 0-6 to 32 bits and
// leaves lane 7.
#define RAISE(d, Zc, Zp) \
	VPADDQ 64*d(DI), Zc, Z1 \
	VMOVDQU64 Z1, 64*d(DI) \
	VPMINUQ Z7, Z1, Z1 \
	VPMAXUQ Zp, Z1, Z1 \
	VPMOVQD Z1, Y3 \
	VMOVDQU32 Y3, K2, 16+28*d(DX) \
	VEXTRACTI32X4 $3, Z1, X4 \
	VPEXTRQ $1, X4, AX \
	MOVQ AX, 8*d(DX)

// func addRaiseAVX512(s *sums, c *counts, p *counts)
TEXT ·addRaiseAVX512(SB), NOSPLIT, $0-24
	MOVQ s+0(FP), DI
	MOVQ c+8(FP), SI
	MOVQ p+16(FP), DX
	MASKS
	MOVL $0xffffffff, AX
	VPBROADCASTQ AX, Z7
	MOVQ $-1, AX
	VPBROADCASTQ AX, K3, Z7
	// Every load before the first store, as in addAVX512.
	NARROW(SI, 0, Y0, Z0)
	NARROW(SI, 1, Y5, Z5)
	NARROW(DX, 0, Y2, Z2)
	NARROW(DX, 1, Y6, Z6)
	RAISE(0, Z0, Z2)
	RAISE(1, Z5, Z6)
	VZEROUPPER
	RET
