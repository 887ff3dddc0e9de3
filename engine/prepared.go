package engine

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/fanout"
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
var connLists fanout.Lists[*Conn]

// broadcast writes pm to each loop's connections on a goroutine of its own
// and to goroutine mode's on the caller's (internal/fanout).
func (e *engine) broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	return fanout.Run(&connLists, len(e.loops)+1, func(i int, dst []*Conn) []*Conn {
		return e.connsOf(i, anyState, dst) // server.go
	}, func(c *Conn) bool {
		return c.State() == StateOpen && (filter == nil || filter(c)) && c.WritePrepared(pm) == nil
	})
}
