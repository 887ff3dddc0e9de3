package wsconn

import (
	"github.com/weir-ws/weir/internal/fanout"
	"github.com/weir-ws/weir/internal/prepared"
)

// WritePrepared is engine.Conn.WritePrepared (documented there).
func (c *Conn) WritePrepared(m *prepared.Message) error {
	c.WriteSide.Mu.Lock()
	err := c.WriteSide.W.Writable(m.Opcode())
	if err == nil {
		err = c.WriteSide.W.Prepared(c.sink(), m)
	}
	c.WriteSide.Mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// WritePreparedMany is engine.WritePreparedMany.
func WritePreparedMany(conns []*Conn, pm *prepared.Message) int {
	return batches.WriteMany(ringOps{}, conns, pm)
}

var batches fanout.Batches[*Conn, ringOps]

// ringOps is a Conn as WritePreparedMany's batches reach it (fanout.Ops).
type ringOps struct{}

// Direct takes c's write lock and admits m for a send straight to the
// socket: not for goroutine mode, TLS (sealed by the record layer), a client
// (masked), a lock held elsewhere, or a write that would be queued
// (wswrite.Writer.PreparedDirect).
func (ringOps) Direct(c *Conn, m *prepared.Message) (fd int, f []byte, err error) {
	if c.goMode() || c.TLS != nil || c.client() || !c.WriteSide.Mu.TryLock() {
		return -1, nil, nil
	}
	err = c.WriteSide.W.Writable(m.Opcode())
	if err == nil {
		f, err = c.WriteSide.W.PreparedDirect(c.sink(), m)
	}
	if err != nil || f == nil {
		c.WriteSide.Mu.Unlock()
		return -1, nil, err
	}
	// The fd is valid: the Writer is not closed (Writable), and it is closed
	// only under the write lock, held until Sent.
	return c.FD.Int(), f, nil
}

func (ringOps) Sent(c *Conn, f []byte, k int, err error) error {
	if k > 0 {
		c.stats.bytesOut.Add(uint64(k))
	}
	err = c.WriteSide.W.PreparedSent(c.sink(), f, k, err)
	c.WriteSide.Mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return err
}

func (ringOps) Write(c *Conn, m *prepared.Message) error { return c.WritePrepared(m) }
func (ringOps) Failed(c *Conn, err error)                { c.afterWrite(err) }
