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
	nc       net.Conn
	wake     chan struct{} // a token when events are posted (for a Reader holding input back)
	wch      chan struct{} // a token when output is queued (for the writer)
	inflight int           // bytes the writer is writing now (under the Output's lock)
	writes   bool          // a writer goroutine runs WriteLoop (WillWrite)
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

// CloseWrite half-closes the socket, if its net.Conn can.
func (s *Socket) CloseWrite() {
	if cw, ok := s.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}
