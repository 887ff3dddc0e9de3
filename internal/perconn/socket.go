package perconn

import (
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// Socket is a connection's net.Conn with the channels that wake its reader and
// writer goroutines. Make it with New before either goroutine starts.
type Socket struct {
	nc   net.Conn
	wake chan struct{} // a token when events are posted (for a Reader holding input back)
	wch  chan struct{} // a token when output is queued (for the writer)
}

// New returns the Socket of nc.
func New(nc net.Conn) *Socket {
	return &Socket{nc: nc, wake: make(chan struct{}, 1), wch: make(chan struct{}, 1)}
}

// NetConn is the socket's net.Conn.
func (s *Socket) NetConn() net.Conn { return s.nc }

// Reader is the connection as ReadLoop drives it, on ReadLoop's goroutine.
type Reader interface {
	// Done reports that the connection is over: ReadLoop returns.
	Done() bool
	// Events handles the events posted since the last call and reports whether
	// there were any.
	Events() bool
	// Held reports whether input must wait for now (reading paused, or output
	// above its mark): ReadLoop waits for a Wake, then asks again.
	Held() bool
	// Input takes bytes just read. It keeps no reference to p.
	Input(p []byte)
	// EOF reports that the peer closed its side.
	EOF()
	// Failed reports a read error other than the deadline Wake sets.
	Failed(err error)
}

// ReadLoop reads from the socket and feeds r until r is Done.
func (s *Socket) ReadLoop(r Reader) {
	buf := newReadBuf()
	defer buf.release()
	for !r.Done() {
		if r.Events() {
			continue
		}
		if r.Held() {
			<-s.wake // the writer's progress, or a resume, wakes it
			continue
		}
		s.nc.SetReadDeadline(time.Time{})
		if r.Events() { // posted before the deadline was cleared
			continue
		}
		n, err := s.nc.Read(buf.b)
		if n > 0 {
			r.Input(buf.b[:n])
			buf.read(n)
		}
		if err != nil && !r.Done() {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				// Woken by Wake: the events are handled at the top.
			case errors.Is(err, io.EOF):
				r.EOF()
			default:
				r.Failed(err)
			}
		}
	}
}

// Wake makes the reader look at its events (any goroutine): it ends a
// blocked Read, or a wait for input to be let through.
func (s *Socket) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.nc.SetReadDeadline(time.Unix(1, 0))
}

// Writer is the connection's output as WriteLoop drives it, on WriteLoop's
// goroutine.
type Writer interface {
	// Take returns the bytes to write next, taken whole from the connection's
	// queue, or nil when there are none for now. closed reports that the
	// connection is over and its output with it: WriteLoop returns.
	Take() (buf []byte, closed bool)
	// Wrote reports that n more bytes of the buffer being written went out,
	// as the write goes (at most every writeChunk bytes): a big buffer going
	// out to a slow reader shows progress before it is written whole.
	Wrote(n int)
	// Written reports that n bytes of buf went out in all, and err if the
	// write failed.
	Written(buf []byte, n int, err error)
}

// writeChunk is the most WriteLoop hands net.Conn.Write at once, so that Wrote
// reports a slow reader's progress (keepalive counts it as a sign of life).
// Write would loop over the kernel's buffer size anyway: a chunk costs at most
// a few system calls more per 256 KiB.
const writeChunk = 256 << 10

// WriteLoop writes what w hands it, each time Kick says there is some, until
// w reports the connection closed.
func (s *Socket) WriteLoop(w Writer) {
	for range s.wch {
		for {
			buf, closed := w.Take()
			if closed {
				return
			}
			if buf == nil {
				break
			}
			n, err := s.write(w, buf)
			w.Written(buf, n, err)
		}
	}
}

// write writes buf in chunks of writeChunk, reporting each to w.Wrote.
func (s *Socket) write(w Writer, buf []byte) (int, error) {
	total := 0
	for total < len(buf) {
		n, err := s.nc.Write(buf[total:min(len(buf), total+writeChunk)])
		total += n
		if n > 0 {
			w.Wrote(n)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Kick tells the writer that output is queued (any goroutine).
func (s *Socket) Kick() {
	select {
	case s.wch <- struct{}{}:
	default:
	}
}

// WriteNow writes buf on the caller's goroutine within timeout, for a
// connection that has no writer goroutine, and returns what went out.
func (s *Socket) WriteNow(buf []byte, timeout time.Duration) int {
	s.nc.SetWriteDeadline(time.Now().Add(timeout))
	n, _ := s.nc.Write(buf)
	return n
}

// CloseWrite half-closes the socket, if its net.Conn can.
func (s *Socket) CloseWrite() {
	if cw, ok := s.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}
