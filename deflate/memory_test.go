package deflate

import (
	"runtime"
	"testing"
)

var idleCases = []struct {
	name  string
	p     Params
	size  int // message exchanged each way
	bound int // bytes per connection the test allows
}{
	// No takeover: the 80-byte Conn struct alone.
	{"no-takeover/1KiB", Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, 1 << 10, 128},
	{"no-takeover/64KiB", Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, 64 << 10, 128},
	// Takeover: the histories, sized to what was exchanged: 1 KiB each way...
	{"takeover/1KiB", Params{}, 1 << 10, 2<<10 + 256},
	// ...or, after a large message, DefaultHistorySize sent plus the
	// peer's full 32 KiB window.
	{"takeover/64KiB", Params{}, 64 << 10, DefaultHistorySize + 32<<10 + 256},
	// A server that answers client_max_window_bits=10 keeps 1 KiB of the
	// peer's history.
	{"takeover-client-window-10/64KiB", Params{ClientMaxWindowBits: 10}, 64 << 10, DefaultHistorySize + 1<<10 + 256},
}

// idleConnHeap builds n server Conns, has each compress one message and
// decompress one from its peer, and returns the heap they hold afterwards per
// connection. Two collections before each reading empty the codec pools
// (sync.Pool drops its contents after two), so only what the Conns keep is
// counted.
func idleConnHeap(tb testing.TB, p Params, size, n int) float64 {
	msg := jsonText(int64(size), size)
	peer := NewConn(p, false, nil)
	incoming, err := peer.Compress(nil, msg)
	peer.Release()
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]byte, 0, 2*size)
	in := make([]byte, 0, size)
	conns := make([]*Conn, n)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range conns {
		c := NewConn(p, true, nil)
		if _, err := c.Compress(out[:0], msg); err != nil {
			tb.Fatal(err)
		}
		if _, err := c.Decompress(in[:0], incoming, int64(size)); err != nil {
			tb.Fatal(err)
		}
		conns[i] = c
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(msg)
	runtime.KeepAlive(incoming)
	runtime.KeepAlive(out)
	runtime.KeepAlive(in)
	per := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	for _, c := range conns {
		c.Release()
	}
	runtime.KeepAlive(conns)
	return per
}

// TestIdleConnHeap checks the memory model: without context takeover an
// idle Conn holds nothing but itself; with it, the history windows only.
func TestIdleConnHeap(t *testing.T) {
	n := 2000
	if raceEnabled {
		n = 200 // the figures are exact either way; -race is slow
	}
	for _, tt := range idleCases {
		per := idleConnHeap(t, tt.p, tt.size, n)
		t.Logf("%s: %.0f bytes per idle connection", tt.name, per)
		if per > float64(tt.bound) {
			t.Errorf("%s: %.0f bytes per idle connection, want at most %d", tt.name, per, tt.bound)
		}
	}
}
