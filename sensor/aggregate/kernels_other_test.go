//go:build !amd64

package aggregate

import "testing"

func setAVX512Use(*testing.T, bool) {}
