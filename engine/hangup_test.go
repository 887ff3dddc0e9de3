package engine

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// countHandler counts opens and closes and ignores messages.
type countHandler struct {
	NopHandler
	opened, closed atomic.Int64
}

func (h *countHandler) OnOpen(*Conn) { h.opened.Add(1) }

// OnMessage is slow, so that input piles up in the sockets while workers are busy.
func (h *countHandler) OnMessage(*Conn, frame.Opcode, []byte) { time.Sleep(20 * time.Microsecond) }

func (h *countHandler) OnClose(*Conn, frame.StatusCode, string, error) { h.closed.Add(1) }

// TestFloodThenVanish: clients that send more than one read turn's worth and then
// hang up are all finished, with keepalive and idle timeouts off, so that nothing but
// the hang-up can end them. A connection requeued after its turn must keep the
// hang-up: the poller reports it once (edge-triggered), and a later turn that stops
// at a short read would never read the EOF behind it.
func TestFloodThenVanish(t *testing.T) {
	t.Parallel()
	const (
		clients = 200
		perConn = 512 << 10
		runs    = 3
	)
	var flood []byte
	payload := bytes.Repeat([]byte("f"), 4<<10)
	for len(flood) < perConn {
		flood = append(flood, frameBytes(true, frame.OpBinary, 0, payload, true)...)
	}
	// A tail that no read size divides: the last read of the flood is short.
	flood = append(flood, frameBytes(true, frame.OpText, 0, []byte("bye"), true)...)
	forLoopModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		cfg.IdleTimeout = 0
		// Small reads, so that a flood spans several turns of turns.MaxReads.
		cfg.ReadBufferSize = 256
		for run := range runs {
			h := &countHandler{}
			s, addr := startServer(t, h, cfg, nil)
			var wg sync.WaitGroup
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rc := dialRaw(t, addr)
					rc.nc.SetWriteDeadline(time.Now().Add(time.Minute))
					rc.nc.Write(flood)
					rc.nc.(*net.TCPConn).Close()
				}()
			}
			wg.Wait()
			// The loops serve the 200 connections in turns, so they all
			// finish near the end of the run; in inline mode each message
			// costs the loop a 20 µs sleep (far more on a loaded machine),
			// and with -race at load 14 a run took over 30 s. A lost
			// hang-up never finishes: the bound only has to be finite.
			deadline := time.Now().Add(2 * time.Minute)
			for h.closed.Load() < clients && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := h.closed.Load(); got != clients {
				t.Fatalf("run %d: %d of %d connections finished after their peers hung up (%d opened)",
					run, got, clients, h.opened.Load())
			}
			s.Close()
		}
	})
}
