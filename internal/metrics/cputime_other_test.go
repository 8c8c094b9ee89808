//go:build !unix

package metrics_test

import "time"

// cpuTime is unknown here: cpu-ns/op reads 0.
func cpuTime() time.Duration { return 0 }
