#include "textflag.h"

// func prefetchRow(p unsafe.Pointer)
// Prefetches the 384 bytes from p (a snapshot.Row) into all cache levels
// without waiting for them.
TEXT ·prefetchRow(SB), NOSPLIT, $0-8
	MOVQ p+0(FP), AX
	PREFETCHT0 0(AX)
	PREFETCHT0 64(AX)
	PREFETCHT0 128(AX)
	PREFETCHT0 192(AX)
	PREFETCHT0 256(AX)
	PREFETCHT0 320(AX)
	RET
