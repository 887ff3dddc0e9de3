package tlshand

import (
	"io"
	"net"

	"github.com/weir-ws/weir/bufpool"
)

const (
	readAhead  = 4096     // read-ahead buffer during the handshake
	captureMax = 64 << 10 // bytes of our own flights kept for counting records
)

// recConn is the net.Conn crypto/tls runs its handshake over. During the
// handshake it hands crypto/tls at most one TLS record per Read (crypto/tls
// reads ahead as much as a Read gives it), so nothing past the last
// handshake record is consumed by crypto/tls: what recConn read ahead beyond
// it is returned as Result.Leftover for the record layer. It also finds the
// client random (the first ClientHello read on the server side, written on
// the client side) to register with the key log, and keeps what it writes so
// that the records sealed under the application key can be counted.
//
// After the handshake in goroutine mode it is a plain pass-through (the
// read-ahead drained first), so the tls.Conn stays usable.
type recConn struct {
	net.Conn
	server bool
	log    *keyLog

	buf  []byte // read-ahead: buf[r:w]
	r, w int
	left int // bytes of the current record not yet handed out
	pass bool

	first   bool // the first record (ClientHello) not yet seen
	random  [32]byte
	entry   *entry // registered key log entry, nil if none
	written []byte // our own bytes, up to captureMax
	over    bool   // written overflowed: counting impossible

	// Client, after the handshake (client.go): the bytes handed to
	// crypto/tls (for the shadow Reader), up to captureMax, and stop, set
	// while HandOff drains crypto/tls: at a record boundary Read answers
	// errWouldBlock instead of reading.
	handed     []byte
	handedOver bool
	stop       bool
}

// newRecConn wraps c. Its read-ahead buffer is pooled: a server that
// hands off gives it back at once (dropReadAhead), and so does the capture
// of what it wrote (dropWritten), so a storm of handshakes reuses them
// instead of leaving 4-6 KiB of garbage each.
func newRecConn(c net.Conn, server bool, log *keyLog) *recConn {
	return &recConn{Conn: c, server: server, log: log, buf: bufpool.Get(readAhead), first: true}
}

// dropReadAhead gives the read-ahead buffer back once the handshake's
// leftover has been copied out and crypto/tls will read no more (a server
// in loop mode). Should anything read after all, it reads the socket.
func (c *recConn) dropReadAhead() {
	bufpool.Put(c.buf)
	c.buf, c.r, c.w, c.left, c.pass = nil, 0, 0, 0, true
}

// dropWritten gives back the capture of our own bytes.
func (c *recConn) dropWritten() {
	bufpool.Put(c.written)
	c.written = nil
}

// fill makes at least n bytes (n <= len(buf)) available in buf[r:w].
func (c *recConn) fill(n int) error {
	if c.w-c.r >= n {
		return nil
	}
	if c.r > 0 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	for c.w < n {
		m, err := c.Conn.Read(c.buf[c.w:])
		c.w += m
		if err != nil {
			if c.w >= n {
				return nil
			}
			if err == io.EOF && c.w > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func (c *recConn) Read(p []byte) (int, error) {
	if c.pass {
		if c.r < c.w {
			n := copy(p, c.buf[c.r:c.w])
			c.r += n
			return n, nil
		}
		return c.Conn.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.stop && c.left == 0 {
		return 0, errWouldBlock
	}
	if c.left == 0 {
		if err := c.fill(5); err != nil {
			return 0, err
		}
		n := int(c.buf[c.r+3])<<8 | int(c.buf[c.r+4])
		c.left = 5 + n
		if c.first && c.server {
			c.first = false
			// RFC 8446 §4.1.2: record header (5), handshake header (4),
			// legacy_version (2), random (32). A ClientHello cut into smaller
			// records is legal but gets no registration: goroutine mode.
			if c.buf[c.r] == 22 && n >= 38 && c.fill(43) == nil && c.buf[c.r+5] == 1 {
				c.register(c.buf[c.r+11 : c.r+43])
			}
		}
	}
	if c.r == c.w {
		if err := c.fill(1); err != nil {
			return 0, err
		}
	}
	n := copy(p[:min(len(p), c.left)], c.buf[c.r:c.w])
	if c.handed != nil && !c.handedOver {
		if len(c.handed)+n > captureMax {
			c.handedOver = true
		} else {
			c.handed = append(c.handed, c.buf[c.r:c.r+n]...)
		}
	}
	c.r += n
	c.left -= n
	return n, nil
}

func (c *recConn) register(random []byte) {
	copy(c.random[:], random)
	c.entry = c.log.register(c.random)
}

func (c *recConn) Write(p []byte) (int, error) {
	if c.pass {
		return c.Conn.Write(p)
	}
	if c.first && !c.server {
		c.first = false
		if len(p) >= 43 && p[0] == 22 && p[5] == 1 {
			c.register(p[11:43])
		}
	}
	if !c.over {
		if len(c.written)+len(p) > captureMax {
			c.over = true
			c.dropWritten()
		} else {
			if c.written == nil {
				c.written = bufpool.Get(max(len(p), 2048))[:0]
			}
			c.written = append(bufpool.Grow(c.written, len(p)), p...)
		}
	}
	return c.Conn.Write(p)
}

// leftover returns the bytes read ahead past the last record handed to
// crypto/tls, which must then have been whole.
func (c *recConn) leftover() ([]byte, bool) {
	if c.left != 0 {
		return nil, false
	}
	return append([]byte(nil), c.buf[c.r:c.w]...), true
}

// release unregisters from the key log and returns the secrets found.
func (c *recConn) release() (client, server []byte) {
	if c.entry == nil {
		return nil, nil
	}
	e := c.entry
	c.entry = nil
	return c.log.take(c.random, e)
}
