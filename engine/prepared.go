package engine

import (
	"sync"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/fanout"
	"github.com/weir-ws/weir/internal/prepared"
	"github.com/weir-ws/weir/internal/uring"
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
// own goroutine, so a broadcast uses every core, in batches (WritePreparedMany);
// a slow consumer gets the WriteBufferPolicy, never a block.
func (s *Server) Broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	return s.e.broadcast(pm, filter)
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
// batches: each connection's write lock is taken (TryLock: one held elsewhere
// is not waited for, so two fan-outs never wait on each other), its frame
// admitted and counted (wswrite.Writer.PreparedDirect), the batch's sends go
// to the kernel with one io_uring_enter, and what a socket did not take is
// queued before the lock is let go (PreparedSent), as WritePrepared would
// queue it. That is one system call per batch instead of one writev per
// receiver; the others get WritePrepared, and so do all where io_uring is
// missing or refused, or when internal/uring's rings are all in use.
func WritePreparedMany(conns []*Conn, pm *PreparedMessage) int {
	if len(conns) < 2 {
		return writeEach(conns, pm) // one system call either way
	}
	r := uring.Get()
	if r == nil {
		return writeEach(conns, pm) // no io_uring here, or every ring in use
	}
	b := batches.Get().(*batch)
	n := 0
	for _, c := range conns {
		if b.ringFailed || !b.add(r, c, pm) {
			b.later = append(b.later, c)
		} else if len(b.conns) == r.Cap() {
			n += b.send(r)
		}
	}
	n += b.send(r)
	if b.ringFailed {
		b.ringFailed = false // the ring is retired (uring.Ring.Send), not put back
	} else {
		uring.Put(r)
	}
	n += writeEach(b.later, pm)
	b.reset()
	batches.Put(b)
	return n
}

func writeEach(conns []*Conn, pm *PreparedMessage) int {
	n := 0
	for _, c := range conns {
		if c.WritePrepared(pm) == nil {
			n++
		}
	}
	return n
}

// batch is one WritePreparedMany's connections in flight: their write locks
// are held from add to send. A connection is under at most one write lock
// held by this goroutine at a time otherwise: afterWrite (which may take
// the lock again to send a close) runs once the batch's locks are let go.
type batch struct {
	conns      []*Conn
	frames     [][]byte
	failed     []failedWrite
	res        []int32
	later      []*Conn
	ringFailed bool
}

var batches = sync.Pool{New: func() any { return new(batch) }}

// add takes c's write lock, admits pm's frame and queues its send in r (or
// keeps a refusal for send to report); false: not for the ring (goroutine
// mode, TLS, a client, its lock held elsewhere, or a write that would not go
// straight to the socket), WritePrepared after the batch.
func (b *batch) add(r *uring.Ring, c *Conn, pm *PreparedMessage) bool {
	if c.goroutine != nil || c.tls != nil || c.client || !c.write.mu.TryLock() {
		return false
	}
	err := c.write.w.Writable(pm.m.Opcode())
	var f []byte
	if err == nil {
		f, err = c.write.w.PreparedDirect(c.sink(), pm.m)
	}
	if err != nil || f == nil {
		c.write.mu.Unlock()
		if err != nil {
			b.failed = append(b.failed, failedWrite{c, err})
			return true
		}
		return false
	}
	// The fd is valid: the Writer is not closed (Writable), and it is closed
	// only under the write lock held until send.
	r.Add(c.fd.Int(), f)
	b.conns = append(b.conns, c)
	b.frames = append(b.frames, f)
	return true
}

// send submits the batch, ends every write as the socket took it and lets
// the locks go; it returns how many took the message.
func (b *batch) send(r *uring.Ring) int {
	if len(b.conns) == 0 {
		b.reportFailed()
		return 0
	}
	if cap(b.res) < r.Cap() {
		b.res = make([]int32, r.Cap())
	}
	if r.Send(b.res) != nil {
		b.ringFailed = true // every result not reported is uring.Unknown
	}
	n := 0
	for i, c := range b.conns {
		k, err := uring.Outcome(b.res[i])
		if k > 0 {
			c.stats.bytesOut.Add(uint64(k))
		}
		err = c.write.w.PreparedSent(c.sink(), b.frames[i], k, err)
		c.write.mu.Unlock()
		if err == nil {
			c.stats.msgsOut.Add(1)
			n++
		} else {
			b.failed = append(b.failed, failedWrite{c, err})
		}
	}
	clear(b.conns)
	clear(b.frames)
	b.conns, b.frames = b.conns[:0], b.frames[:0]
	b.reportFailed()
	return n
}

// reportFailed gives the writes that failed their afterWrite, once every
// lock of the batch is let go (see batch).
func (b *batch) reportFailed() {
	for _, f := range b.failed {
		f.c.afterWrite(f.err)
	}
	clear(b.failed)
	b.failed = b.failed[:0]
}

type failedWrite struct {
	c   *Conn
	err error
}

func (b *batch) reset() {
	clear(b.later)
	b.later = b.later[:0]
}
