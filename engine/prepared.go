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
// connection's history. It is one frame whatever Config.WriteFragmentSize says.
func (c *Conn) WritePrepared(pm *PreparedMessage) error { return c.writePrepared(pm.m) }

func (c *Conn) writePrepared(m *prepared.Message) error {
	c.write.mu.Lock()
	err := c.write.w.Writable(m.Opcode())
	if err == nil {
		err = c.write.w.Prepared(c.sink(), m)
	}
	c.write.mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// connLists recycles Broadcast's snapshots of the connection tables, so a
// broadcast allocates nothing per connection (nor per empty fd-table slot) in
// steady state.
var connLists fanout.Lists[*Conn]

// broadcast writes pm to each loop's connections on a goroutine of its own
// and to goroutine mode's on the caller's (internal/fanout), in batches
// (WritePreparedMany).
func (e *engine) broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	return fanout.Run(&connLists, len(e.loops)+1, func(i int, dst []*Conn) []*Conn {
		return e.connsOf(i, anyState, dst) // server.go
	}, func(conns []*Conn) int {
		keep := conns[:0] // the open ones filter lets through, sent to as a batch
		for _, c := range conns {
			if c.State() == StateOpen && (filter == nil || filter(c)) {
				keep = append(keep, c)
			}
		}
		return WritePreparedMany(keep, pm)
	})
}

// WritePreparedMany is WritePrepared to each of conns (any mix of servers and
// modes) and returns how many took pm. Where io_uring is to be had (Linux,
// internal/uring), the connections whose frame goes straight to the socket (on
// the loops, without TLS, nothing queued, no compression) are sent to in
// batches, one io_uring_enter each, instead of one writev per receiver
// (internal/fanout.Batches: the write locks are held from admission to the
// send's outcome, and what a socket did not take is queued before the lock is
// let go, as WritePrepared would queue it); the others get WritePrepared, and
// so do all where io_uring is missing or refused, or every ring is in use.
func WritePreparedMany(conns []*Conn, pm *PreparedMessage) int {
	return batches.WriteMany(ringOps{}, conns, pm.m)
}

var batches fanout.Batches[*Conn, ringOps]

// ringOps is a Conn as WritePreparedMany's batches reach it (fanout.Ops).
type ringOps struct{}

// Direct takes c's write lock and admits m for a send straight to the
// socket: not for goroutine mode, TLS (sealed by the record layer), a client
// (masked), a lock held elsewhere, or a write that would be queued
// (wswrite.Writer.PreparedDirect).
func (ringOps) Direct(c *Conn, m *prepared.Message) (fd int, f []byte, err error) {
	if c.goMode() || c.tls != nil || c.client() || !c.write.mu.TryLock() {
		return -1, nil, nil
	}
	err = c.write.w.Writable(m.Opcode())
	if err == nil {
		f, err = c.write.w.PreparedDirect(c.sink(), m)
	}
	if err != nil || f == nil {
		c.write.mu.Unlock()
		return -1, nil, err
	}
	// The fd is valid: the Writer is not closed (Writable), and it is closed
	// only under the write lock, held until Sent.
	return c.fd.Int(), f, nil
}

func (ringOps) Sent(c *Conn, f []byte, k int, err error) error {
	if k > 0 {
		c.stats.bytesOut.Add(uint64(k))
	}
	err = c.write.w.PreparedSent(c.sink(), f, k, err)
	c.write.mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return err
}

func (ringOps) Write(c *Conn, m *prepared.Message) error { return c.writePrepared(m) }
func (ringOps) Failed(c *Conn, err error)                { c.afterWrite(err) }
