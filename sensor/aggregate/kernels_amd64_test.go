package aggregate

import "testing"

// setAVX512Use switches the kernels for the rest of test t.
func setAVX512Use(t *testing.T, on bool) {
	was := useAVX512
	useAVX512 = on
	t.Cleanup(func() { useAVX512 = was })
}
