package engine

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// floodHandler counts the payload bytes of the flooders' messages and, when a
// "probe" arrives, records how many had been handled by then.
type floodHandler struct {
	NopHandler
	handled atomic.Int64
	atProbe chan int64
}

func (h *floodHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	if op == frame.OpText && string(p) == "probe" {
		h.atProbe <- h.handled.Load()
		return
	}
	h.handled.Add(int64(len(p)))
}

// TestFloodersDoNotStarveFreshInput: a connection with a little fresh input is
// served after at most a turn or two of the connections flooding the server,
// not after a turn of every flooder. Before, a turn read up to 32 times the
// read buffer (2 MiB by default) and a requeued flooder went to the back of the
// same queue as fresh input: with 16 flooders, 30 MiB and more of their
// messages were handled between the probe's arrival and its delivery (a fresh
// client waited over a second on a busy machine, issue 12). Counted in bytes
// handled, not in time, so a busy machine does not change the verdict; the
// flooders run in a child process, so that their goroutines do not delay this
// process's loop.
func TestFloodersDoNotStarveFreshInput(t *testing.T) {
	t.Parallel()
	h := &floodHandler{atProbe: make(chan int64, 1)}
	s, addr := startServer(t, h, Config{Loops: 1, Workers: 1, MaxMessageSize: 1 << 20}, nil)
	// Every event goes to the pool, as on a busy machine, where the loop's
	// turns are slow and it hands everything over (internal/reactor takeover.go).
	s.e.Loops[0].Turns().SetSlowUntil(math.MaxInt64)
	probe := dialRaw(t, addr)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFloodHelperProcess$")
	cmd.Env = append(os.Environ(), "WEIR_FLOOD_ADDR="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// Let the flood fill the server's queue: every flooder has input waiting.
	deadline := time.Now().Add(30 * time.Second)
	for h.handled.Load() < 64<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the flood did not come: %d bytes handled", h.handled.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Three probes, one after another; the verdict is on the best of them.
	// The bytes counted from the probe's send include the time the loop
	// takes to see it arrive, which on a busy box is sometimes a few ms
	// (3-4 MiB handled, before and after the fix alike); starvation is a turn
	// of every flooder for every probe.
	best := int64(math.MaxInt64)
	var seen []int64
	for range 3 {
		sent := h.handled.Load()
		probe.send(true, frame.OpText, []byte("probe"))
		var at int64
		select {
		case at = <-h.atProbe:
		case <-time.After(30 * time.Second):
			t.Fatal("the probe was never delivered")
		}
		seen = append(seen, (at-sent)>>10)
		best = min(best, at-sent)
	}
	// One turn in progress plus one more per lane switch: a few hundred KiB.
	// Before the fix: a turn of every flooder, 16 × up to 2 MiB.
	if best > 2<<20 {
		t.Fatalf("at best %d MiB of the flooders' messages handled between a probe's arrival and its delivery (KiB per probe: %v), want at most 2",
			best>>20, seen)
	}
	t.Logf("KiB handled before each probe: %v", seen)
}

// TestFloodHelperProcess is the child process of
// TestFloodersDoNotStarveFreshInput: 16 connections to WEIR_FLOOD_ADDR sending
// 64 KiB messages until the parent kills it. Without the variable it does
// nothing.
func TestFloodHelperProcess(t *testing.T) {
	addr := os.Getenv("WEIR_FLOOD_ADDR")
	if addr == "" {
		return
	}
	msg := frameBytes(true, frame.OpBinary, 0, bytes.Repeat([]byte{7}, 64<<10), true)
	var wg sync.WaitGroup
	for range 16 {
		rc := dialRaw(t, addr)
		rc.nc.SetDeadline(time.Time{})
		wg.Go(func() {
			for {
				if _, err := rc.nc.Write(msg); err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
}
