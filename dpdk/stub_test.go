//go:build nodpdk

package dpdk

import (
	"errors"
	"testing"
)

func TestStubSaysNotBuilt(t *testing.T) {
	_, regErr := RegisterThread()
	_, portErr := OpenPort("net_null0", PortConfig{RxQueues: 1})
	for name, err := range map[string]error{
		"InitEAL":        InitEAL(EALOptions{NoHuge: true, FilePrefix: "x"}),
		"CleanupEAL":     CleanupEAL(),
		"RegisterThread": regErr,
		"OpenPort":       portErr,
	} {
		if !errors.Is(err, ErrNotBuilt) || err.Error() != "rampart was built without DPDK (nodpdk build tag)" {
			t.Errorf("%s = %v, want ErrNotBuilt", name, err)
		}
	}
}
