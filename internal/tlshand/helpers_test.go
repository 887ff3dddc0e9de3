package tlshand

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	mrand "math/rand/v2"
	"net"
	"sync"
	"testing"

	"github.com/weir-ws/weir/internal/testcert"
	"github.com/weir-ws/weir/internal/tlsrec"
)

var (
	certOnce sync.Once
	cert     tls.Certificate
	roots    *x509.CertPool
)

func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	certOnce.Do(func() {
		var err error
		if cert, roots, err = testcert.New("weir.test"); err != nil {
			panic(err)
		}
	})
	return cert, roots
}

func serverConfig(t testing.TB) *tls.Config {
	c, _ := testCert(t)
	return &tls.Config{Certificates: []tls.Certificate{c}}
}

func clientConfig(t testing.TB) *tls.Config {
	_, r := testCert(t)
	return &tls.Config{RootCAs: r, ServerName: "weir.test"}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		ch <- c
	}()
	b, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a = <-ch
	if a == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// splitConn writes in random pieces (TCP_NODELAY is on: separate segments),
// so the loop side sees records cut at random points; armed corrupts the
// next write's last byte.
type splitConn struct {
	net.Conn
	mu      sync.Mutex
	rng     *mrand.Rand
	corrupt bool
}

func (c *splitConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corrupt {
		c.corrupt = false
		p = append([]byte(nil), p...)
		p[len(p)-1] ^= 0x80
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), 1+c.rng.IntN(3000))
		m, err := c.Conn.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// loop is our side after the hand-off: the record layer over the raw socket,
// reading with random read sizes (random split points) into one buffer.
type loop struct {
	t    testing.TB
	c    net.Conn
	r    *tlsrec.Reader
	w    *tlsrec.Writer
	rng  *mrand.Rand
	buf  []byte // buf[:plain] app data not yet taken, then buf[plain:plain+rest] raw
	pl   int
	rest int
	upd  int // KeyUpdate requests seen
	err  error
	// drop: both sides let their AEAD go after every Decrypt and around
	// every seal (tlsrec's idle drop at every point), so every record is
	// opened or sealed by a rebuilt AEAD.
	drop bool
}

func newLoop(t testing.TB, c net.Conn, res *Result, seed uint64) *loop {
	l := &loop{t: t, c: c, r: res.Reader, w: res.Writer, rng: mrand.New(mrand.NewPCG(seed, 9)), buf: make([]byte, 0, 64<<10)}
	l.buf = append(l.buf, res.Leftover...)
	l.rest = len(res.Leftover)
	return l
}

// fill decrypts what is buffered, reading more when nothing is; it returns
// the record layer's error.
func (l *loop) fill() error {
	for {
		if l.rest > 0 {
			raw := l.buf[l.pl : l.pl+l.rest]
			res, err := l.r.Decrypt(raw)
			if l.drop {
				l.r.Drop()
			}
			l.pl += res.Plain
			l.rest = res.Rest
			copy(l.buf[l.pl:], raw[res.Plain:res.Plain+res.Rest])
			l.buf = l.buf[:l.pl+l.rest]
			if res.UpdateRequested {
				l.upd++
				l.send(func(dst []byte) ([]byte, error) { return l.w.AppendKeyUpdate(dst, false) })
			}
			if err != nil {
				if code, ok := tlsrec.AlertToSend(err); ok {
					l.send(func(dst []byte) ([]byte, error) { return l.w.AppendAlert(dst, code) })
				}
				return err
			}
			if res.Plain > 0 {
				return nil
			}
		}
		if len(l.buf)+tlsrec.MaxCiphertext+tlsrec.HeaderLen > cap(l.buf) {
			l.buf = append(make([]byte, 0, 2*cap(l.buf)+tlsrec.MaxCiphertext), l.buf...)
		}
		k := 1 + l.rng.IntN(tlsrec.MaxCiphertext+tlsrec.HeaderLen)
		n, err := l.c.Read(l.buf[len(l.buf) : len(l.buf)+k])
		l.buf = l.buf[:len(l.buf)+n]
		l.rest += n
		if err != nil && n == 0 {
			return err
		}
	}
}

// readN returns the next n bytes of application data.
func (l *loop) readN(n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		if l.pl == 0 {
			if err := l.fill(); err != nil {
				return out, err
			}
			continue
		}
		k := min(l.pl, n-len(out))
		out = append(out, l.buf[:k]...)
		copy(l.buf, l.buf[k:])
		l.buf = l.buf[:len(l.buf)-k]
		l.pl -= k
	}
	return out, nil
}

func (l *loop) send(seal func([]byte) ([]byte, error)) {
	if l.drop {
		l.w.Drop()
		defer l.w.Drop()
	}
	b, err := seal(nil)
	if err != nil {
		l.t.Errorf("seal: %v", err)
		return
	}
	if _, err := l.c.Write(b); err != nil {
		l.t.Errorf("write: %v", err)
	}
}

func (l *loop) write(p []byte) {
	l.send(func(dst []byte) ([]byte, error) { return l.w.AppendSeal(dst, p) })
}

func randBytes(rng *mrand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

var _ = bytes.Equal
var _ = io.EOF
