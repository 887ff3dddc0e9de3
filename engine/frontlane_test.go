package engine

import (
	"testing"

	"github.com/weir-ws/weir/internal/workq"
)

// TestHandshakeTurnsGoFirst: a server connection still in its handshake is
// handed to the pool's front lane, from the loop and from any other poster,
// so its turn is taken before the fresh turns queued ahead of it (issue 12:
// behind 200 flooders that just woke up, a fresh client's handshake waited
// 50-120 ms on a loaded machine). A client connection that is dialling, an
// open one and a heavy one keep their lanes. No workers run: the test takes
// from the queue itself.
func TestHandshakeTurnsGoFirst(t *testing.T) {
	t.Parallel()
	newConn := func(e *engine, st State, client bool) *Conn {
		c := &Conn{}
		c.eng, c.client = e, client
		c.state.Store(uint32(st))
		return c
	}
	for _, viaLoop := range []bool{false, true} {
		e := &engine{pool: workq.New[*Conn](8)}
		l := &loop{eng: e}
		open := newConn(e, StateOpen, false)
		dialling := newConn(e, StateConnecting, true)
		shaking := newConn(e, StateConnecting, false)
		for _, c := range []*Conn{open, dialling, shaking} {
			if viaLoop {
				l.post(&runner{}, c, evRead)
			} else {
				c.post(evRead)
			}
		}
		name := map[*Conn]string{open: "open", dialling: "dialling", shaking: "handshaking"}
		for i, w := range []*Conn{shaking, open, dialling} {
			if c, ok := e.pool.Get(); !ok || c != w {
				t.Fatalf("via loop %v: take %d is the %s connection, want the %s one",
					viaLoop, i+1, name[c], name[w])
			}
		}
		e.pool.Stop()
	}
}
