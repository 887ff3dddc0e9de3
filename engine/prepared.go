package engine

import (
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/prepared"
)

// PreparedMessage is a message encoded once and sent to many connections: server
// frames are not masked, so the same header and payload bytes serve every
// connection (ws and WebSocket-Node broadcast recipes, gorilla PreparedMessage).
// Compressed frames are made on first use, one per compressor window size
// (internal/prepared).
type PreparedMessage struct{ m *prepared.Message }

// NewPreparedMessage copies payload and encodes its frame once.
func NewPreparedMessage(op frame.Opcode, payload []byte) *PreparedMessage {
	return &PreparedMessage{m: prepared.New(op, payload)}
}

// Opcode is the message's opcode.
func (pm *PreparedMessage) Opcode() frame.Opcode { return pm.m.Opcode() }

// Payload is the message's payload (do not modify it).
func (pm *PreparedMessage) Payload() []byte { return pm.m.Payload() }

// WritePrepared sends a prepared message. On a client connection the frame is masked
// as usual, into a pooled buffer. It takes the write path's three steps (write.go):
// the frame is picked (compressed once per window size, with an empty history),
// admitted, and only then sent and, under context takeover, recorded in the
// connection's history.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	c.write.mu.Lock()
	err := c.write.w.Writable(pm.m.Opcode())
	if err == nil {
		err = c.write.w.Prepared(c.sink(), pm.m)
	}
	c.write.mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// Broadcast sends pm to every open connection for which filter (nil: all) returns
// true, and returns how many took it. Each loop's connections are written by their
// own goroutine, so a broadcast uses every core; a slow consumer gets the
// WriteBufferPolicy, never a block.
func (s *Server) Broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	return s.e.broadcast(pm, filter)
}

// connLists recycles Broadcast's snapshots of the connection tables, so a
// broadcast allocates nothing per connection (nor per empty fd-table slot) in
// steady state.
var connLists = sync.Pool{New: func() any { return new([]*Conn) }}

func (e *engine) broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	var (
		wg    sync.WaitGroup
		total atomic.Int64
	)
	send := func(lp *[]*Conn) {
		n := 0
		for i, c := range *lp {
			if c.State() == StateOpen && (filter == nil || filter(c)) && c.WritePrepared(pm) == nil {
				n++
			}
			(*lp)[i] = nil // no reference kept in the pool
		}
		*lp = (*lp)[:0]
		connLists.Put(lp)
		total.Add(int64(n))
	}
	for _, l := range e.loops {
		lp := connLists.Get().(*[]*Conn)
		l.mu.Lock()
		for _, c := range l.conns {
			if c != nil {
				*lp = append(*lp, c)
			}
		}
		l.mu.Unlock()
		if len(*lp) == 0 {
			connLists.Put(lp)
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); send(lp) }()
	}
	lp := connLists.Get().(*[]*Conn)
	e.gmu.Lock()
	for c := range e.gconns {
		*lp = append(*lp, c)
	}
	e.gmu.Unlock()
	send(lp)
	wg.Wait()
	return int(total.Load())
}
