package engine

import (
	"unsafe"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/prepared"
	"github.com/weir-ws/weir/internal/wsconn"
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
	return wsconn.WritePreparedMany(cores(conns), pm.m)
}

// cores is conns as the machine's Conns: the same pointers (pub), so no copy.
func cores(conns []*Conn) []*wsconn.Conn {
	return unsafe.Slice((**wsconn.Conn)(unsafe.Pointer(unsafe.SliceData(conns))), len(conns))
}
