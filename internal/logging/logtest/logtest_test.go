package logtest

import (
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

func TestRecordsFromGoroutines(t *testing.T) {
	var buf Buffer
	log := zerolog.New(&buf)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				log.Info().Int("worker", i).Msg("tick")
			}
		}()
	}
	log.Warn().Msg("other")
	wg.Wait()
	if got := len(buf.Records(t, "tick")); got != 800 {
		t.Errorf("%d tick records, want 800", got)
	}
	if got := buf.Records(t, "other"); len(got) != 1 || got[0]["level"] != "warn" {
		t.Errorf("other records = %v, want one at warn", got)
	}
}
