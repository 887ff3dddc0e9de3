package perconn

import "time"

// Output is the connection's outbound queue as the writer goroutine takes
// from it. Lock and Unlock are the connection's write lock; Take, Closed,
// Release and Written are called with it held, Wrote and After without.
type Output interface {
	Lock()
	Unlock()
	// Take returns the queued bytes whole (what is owed first), or nil when
	// there are none for now or a write failed.
	Take() []byte
	// Closed reports that the connection is over, its output with it.
	Closed() bool
	// Release gives the output's buffers back: nothing more is written.
	Release()
	// Wrote reports that n more bytes of the buffer being written went out,
	// as the write goes (at most every writeChunk bytes): a big buffer going
	// out to a slow reader shows progress before it is written whole.
	Wrote(n int)
	// Written takes back a buffer that Take handed out, once written, with
	// the write's error if it failed.
	Written(buf []byte, err error)
	// After tells the connection a write ended, with its error (nil: it went
	// out whole).
	After(err error)
	// Ended tells the connection that the writer has stopped for good (the
	// connection closed): nothing more of its output goes out.
	Ended()
}

// writeChunk is the most WriteLoop hands net.Conn.Write at once, so that Wrote
// reports a slow reader's progress (keepalive counts it as a sign of life).
// Write would loop over the kernel's buffer size anyway: a chunk costs at most
// a few system calls more per 256 KiB.
const writeChunk = 256 << 10

// WriteLoop writes what o hands it, each time Kick says there is some, with
// o's lock released, until o is closed: then it releases o's buffers and
// closes the socket, after the last bytes.
func (s *Socket) WriteLoop(o Output) {
	for range s.wch {
		for {
			buf, closed := s.take(o)
			if closed {
				o.Ended()
				return
			}
			if buf == nil {
				break
			}
			n, err := s.write(o, buf)
			o.Lock()
			s.inflight = len(buf) - n // what a failed write left: never out
			o.Written(buf, err)
			o.Unlock()
			o.After(err)
		}
	}
}

// WillWrite records whether a writer goroutine runs WriteLoop for the
// socket: set before it starts (and cleared if it never does), so that the
// connection knows, when it ends, that a writer may still write what it
// took or what is queued, and call Output.Ended after.
func (s *Socket) WillWrite(yes bool) { s.writes = yes }

// Writes reports what WillWrite recorded.
func (s *Socket) Writes() bool { return s.writes }

// take takes o's queue whole, or reports o closed (and closes the socket).
func (s *Socket) take(o Output) (buf []byte, closed bool) {
	o.Lock()
	defer o.Unlock()
	if buf = o.Take(); buf != nil {
		s.inflight = len(buf)
		return buf, false
	}
	if !o.Closed() {
		return nil, false
	}
	o.Release()
	s.nc.Close() // Close left it to the writer, after the last bytes
	return nil, true
}

// write writes buf in chunks of writeChunk, reporting each to o.Wrote.
func (s *Socket) write(o Output, buf []byte) (int, error) {
	total := 0
	for total < len(buf) {
		n, err := s.nc.Write(buf[total:min(len(buf), total+writeChunk)])
		total += n
		if n > 0 {
			o.Wrote(n)
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

// Inflight is what the writer is writing now (under o's lock): once a write
// failed, what it left of its buffer, which never goes out. Bytes that the
// queue and Inflight do not hold went out.
func (s *Socket) Inflight() int { return s.inflight }

// Close closes the socket of a connection that o marks closed (under o's
// lock): at once when now, or when nothing is queued (idle) and nothing is
// being written; otherwise the writer closes it once what is queued is out,
// within timeout.
func (s *Socket) Close(o Output, idle, now bool, timeout time.Duration) {
	if now || idle && s.inflight == 0 {
		o.Release()
		s.nc.Close()
	} else {
		s.nc.SetWriteDeadline(time.Now().Add(timeout))
	}
	s.Kick() // the writer sees o closed and ends
}

// Flush writes what o holds on the caller's goroutine within timeout, for a
// connection whose writer goroutine never started.
func (s *Socket) Flush(o Output, timeout time.Duration) {
	o.Lock()
	buf := o.Take()
	o.Unlock()
	if buf == nil {
		return
	}
	s.nc.SetWriteDeadline(time.Now().Add(timeout))
	n, err := s.nc.Write(buf)
	o.Wrote(n)
	o.Lock()
	s.inflight = len(buf) - n // as WriteLoop's
	o.Written(buf, err)
	o.Unlock()
}
