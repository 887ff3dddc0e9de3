package engine

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestFDReuseNoCrossTalk's handler and bystanders (fdreuse_test.go), also
// used by the other tests of one connection's end and another's number.

// reuseHandler echoes and counts each connection's OnClose.
type reuseHandler struct {
	NopHandler
	opened chan *Conn
	mu     sync.Mutex
	closes map[*Conn]int
}

func (h *reuseHandler) OnOpen(c *Conn) { h.opened <- c }

func (h *reuseHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

func (h *reuseHandler) OnClose(c *Conn, _ frame.StatusCode, _ string, _ error) {
	h.mu.Lock()
	h.closes[c]++
	h.mu.Unlock()
}

func (h *reuseHandler) closed(c *Conn) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closes[c]
}

// reuseWait polls cond until it holds or 20 s pass.
func reuseWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %s", what)
		}
	}
}

// bystander is a connection that must see nothing of the victims: its
// server side writes numbered messages, its peer sends numbered messages the
// server echoes, and the peer checks every frame.
type bystander struct {
	t        *testing.T
	id       int
	rc       *rawClient
	ext      string
	c        *Conn
	stop     chan struct{}
	stopOnce sync.Once
	wrote    atomic.Int64 // messages the server side took
	sent     atomic.Int64 // the peer's messages
	got      atomic.Int64 // the server's messages the peer read
	echoes   atomic.Int64 // echoes the peer read
	ending   atomic.Bool  // a close frame or EOF is expected from now on
	wg       sync.WaitGroup
	read     chan struct{}
}

func newBystander(t *testing.T, id int, rc *rawClient, ext string, c *Conn) *bystander {
	return &bystander{t: t, id: id, rc: rc, ext: ext, c: c, stop: make(chan struct{}), read: make(chan struct{})}
}

func (b *bystander) msg(kind byte, k int64) []byte {
	return fmt.Appendf(nil, "%c%d:%d:%s", kind, b.id, k, strings.Repeat("x", int(k%7)*100))
}

// quit stops the bystander for good: its writers, and its reader by the
// socket (a test that failed; end stops it otherwise).
func (b *bystander) quit() {
	b.stopOnce.Do(func() { close(b.stop) })
	b.ending.Store(true)
	b.rc.nc.Close()
	b.wg.Wait()
	<-b.read
}

func (b *bystander) start() {
	b.t.Cleanup(b.quit)
	b.wg.Go(func() { // the server side's messages
		for k := int64(0); ; k++ {
			select {
			case <-b.stop:
				return
			default:
			}
			if err := b.c.WriteMessage(frame.OpBinary, b.msg('B', k)); err != nil {
				b.t.Errorf("bystander %d: write %d: %v", b.id, k, err)
				return
			}
			b.wrote.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	})
	b.wg.Go(func() { // the peer's messages, echoed
		for k := int64(0); ; k++ {
			select {
			case <-b.stop:
				return
			default:
			}
			if _, err := b.rc.nc.Write(frameBytes(true, frame.OpBinary, 0, b.msg('E', k), true)); err != nil {
				b.t.Errorf("bystander %d: peer write: %v", b.id, err)
				return
			}
			b.sent.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	})
	go b.readAll()
}

func (b *bystander) readAll() {
	defer close(b.read)
	dc := peerInflater(b.t, b.ext)
	for {
		h, p, err := b.rc.readFrame()
		if err != nil {
			if !b.ending.Load() {
				b.t.Errorf("bystander %d: read: %v", b.id, err)
			}
			return
		}
		if h.Opcode == frame.OpClose {
			if !b.ending.Load() {
				b.t.Errorf("bystander %d: a close frame %q", b.id, p)
			}
			return
		}
		if h.Opcode != frame.OpBinary || !h.Fin {
			b.t.Errorf("bystander %d: frame %+v %.40q", b.id, h, p)
			return
		}
		if h.Rsv != 0 {
			if dc == nil || h.Rsv != frame.Rsv1 {
				b.t.Errorf("bystander %d: frame %+v", b.id, h)
				return
			}
			if p, err = dc.Decompress(nil, p, 0); err != nil {
				b.t.Errorf("bystander %d: inflate: %v", b.id, err)
				return
			}
		}
		var want []byte
		switch {
		case len(p) > 0 && p[0] == 'B':
			want = b.msg('B', b.got.Load())
			b.got.Add(1)
		case len(p) > 0 && p[0] == 'E':
			want = b.msg('E', b.echoes.Load())
			b.echoes.Add(1)
		}
		if want == nil || string(p) != string(want) {
			b.t.Errorf("bystander %d: got %.60q, want %.60q", b.id, p, want)
			return
		}
	}
}

// end stops the bystander's writers and waits for all of it to arrive.
func (b *bystander) end(t *testing.T) {
	b.stopOnce.Do(func() { close(b.stop) })
	b.wg.Wait()
	reuseWait(t, fmt.Sprintf("bystander %d's messages and echoes", b.id), func() bool {
		return b.got.Load() == b.wrote.Load() && b.echoes.Load() == b.sent.Load()
	})
	b.ending.Store(true)
	b.c.Close(frame.StatusNormalClosure, "")
	select {
	case <-b.read:
	case <-time.After(20 * time.Second):
		t.Fatalf("bystander %d: no close frame", b.id)
	}
	b.rc.nc.Write(frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe8}, true))
}

func (b *bystander) check(t *testing.T, h *reuseHandler) {
	reuseWait(t, fmt.Sprintf("bystander %d's OnClose", b.id), func() bool { return h.closed(b.c) > 0 })
	if n := h.closed(b.c); n != 1 {
		t.Errorf("bystander %d: OnClose ran %d times", b.id, n)
	}
	if code, _ := b.c.CloseStatus(); code != frame.StatusNormalClosure {
		t.Errorf("bystander %d: closed with %d", b.id, code)
	}
}
