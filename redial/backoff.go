package redial

import (
	"math"
	"math/rand/v2"
	"time"
)

// Defaults for Options' zero values.
const (
	DefaultMinDelay = 500 * time.Millisecond
	DefaultMaxDelay = 30 * time.Second
	DefaultJitter   = 0.2
	// DefaultMinUptime: a connection that ends sooner counts as a failure.
	DefaultMinUptime = 5 * time.Second
)

// delay is the wait before redial attempt n (0 for the first redial after a
// loss or failure): lo·2ⁿ capped at hi, then spread by ±jitter of itself, so
// that many clients cut off at once do not come back at once. r is a uniform
// number in [0, 1).
func delay(n int, lo, hi time.Duration, jitter, r float64) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		if d > hi/2 {
			d = hi // doubling would pass hi, or wrap for a hi near the maximum
			break
		}
		d *= 2
	}
	f := float64(min(d, hi)) * (1 + jitter*(2*r-1))
	if f >= math.MaxInt64 {
		// Out of range, the conversion is not defined (a negative wait on
		// amd64: no wait at all).
		return math.MaxInt64
	}
	return time.Duration(f)
}

// random is the jitter's source; tests replace it.
var random = rand.Float64
