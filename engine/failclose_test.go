package engine

import (
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// After failing a connection (RFC 6455 §7.1.7) the server sends its close frame
// and half-closes at once, so the peer reads the close code and then EOF without
// waiting for CloseTimeout. In goroutine mode the close frame is still queued for
// the writer goroutine when the failure happens; the half-close must follow it.
func TestFailHalfClosesAfterCloseFrame(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.CloseTimeout = time.Hour // EOF must not wait for it
		_, addr := startServer(t, NopHandler{}, cfg, nil)
		rc := dialRaw(t, addr)
		rc.write(frameBytes(true, frame.OpText, 0, []byte("clients must mask"), false)) // §5.1: fail with 1002
		rc.expectClose(frame.StatusProtocolError)
		rc.expectEOF() // within rawClient's 10 s, not an hour
	})
}
