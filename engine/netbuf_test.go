package engine

import (
	"fmt"
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/perconn"
)

// Goroutine mode's reader moves between its 1 KiB and 16 KiB buffers with the
// size of its reads (internal/perconn). Sizes around both edges, runs of small
// messages long enough to shrink it again, and messages far over 16 KiB must all
// arrive whole and in order, on the server and on the client.
func TestGoroutineReadBufferSizes(t *testing.T) {
	t.Parallel()
	cfg := Config{GoroutinePerConn: true}
	_, addr := startServer(t, newCliPeer(true), cfg, nil)
	c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
	var sizes []int
	for _, burst := range []int{perconn.SmallBuf - 10, perconn.SmallBuf, perconn.SmallBuf + 1, perconn.BigBuf - 4, perconn.BigBuf, perconn.BigBuf + 1, 100_000} {
		sizes = append(sizes, burst)
		for range perconn.ShrinkAfter + 2 {
			sizes = append(sizes, 10) // small reads: back to the small buffer
		}
	}
	for i, n := range sizes {
		p := cliPayload(frame.OpBinary, n)
		if err := c.WriteBinary(p); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ReadMessage(cliCtx(t))
		if err != nil {
			t.Fatalf("message %d (%d bytes): %v", i, n, err)
		}
		if string(got) != string(p) {
			t.Fatalf("message %d (%d bytes) came back as %d different bytes", i, n, len(got))
		}
	}
	// A burst of many messages at once (reads that fill the big buffer too).
	for i := range 200 {
		if err := c.WriteText(fmt.Sprintf("%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		if _, got, err := c.ReadMessage(cliCtx(t)); err != nil || string(got) != fmt.Sprintf("%04d", i) {
			t.Fatalf("burst message %d: %q %v", i, got, err)
		}
	}
}
