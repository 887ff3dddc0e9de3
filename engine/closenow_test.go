package engine

import (
	"testing"
	"time"
)

// TestCloseNowAtOnce: CloseNow closes the TCP connection at once in every
// mode, dropping what is queued for a peer that does not read (its
// documentation: the close frame goes "as far as the socket takes it without
// blocking"), rather than writing the queue until CloseTimeout. Goroutine
// mode's writer used to write the whole queue first: with CloseTimeout at
// two minutes the completions of the queued messages, and the peer's EOF,
// waited that long. testDoneTruth waits 10 s for each callback and checks
// that what they say matches what the peer got.
func TestCloseNowAtOnce(t *testing.T) {
	t.Parallel()
	for _, wss := range []bool{false, true} {
		name := "ws"
		if wss {
			name = "wss"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.CloseTimeout = 2 * time.Minute
				testDoneTruth(t, cfg, "CloseNow", wss)
			})
		})
	}
}
