package engine

import (
	"io"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// BenchmarkBroadcast: one prepared message to 64 connections whose peers drain
// their sockets. Per broadcast it allocates only the per-loop goroutines, nothing
// per connection nor per fd-table slot.
func BenchmarkBroadcast(b *testing.B) {
	h := newBPHandler()
	h.opened = make(chan *Conn, 64)
	h.closed = make(chan closeRecord, 64)
	s, addr := startServer(b, h, Config{PingInterval: -1}, nil)
	for range 64 {
		rc := dialRaw(b, addr)
		go io.Copy(io.Discard, rc.br)
		h.conn(b)
	}
	pm := NewPreparedMessage(frame.OpBinary, make([]byte, 128))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n := s.Broadcast(pm, nil); n != 64 {
			b.Fatalf("Broadcast reached %d", n)
		}
	}
}
