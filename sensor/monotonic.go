package sensor

import "time"

// epoch anchors monotonicNs: time.Since reads the monotonic clock, so busy
// time never jumps with wall-clock steps.
var epoch = time.Now()

func monotonicNs() int64 { return int64(time.Since(epoch)) }
