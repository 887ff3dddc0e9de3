package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/testcert"
	"github.com/weir-ws/weir/upgrade"
)

// Helpers for the client tests (client_*_test.go): the client (Client.Dial,
// ReadMessage, NetConn) against weir's own server and against a third-party one,
// ws from npm, run by node from testdata/nodews.

// cliWait bounds every wait in these tests: long enough never to fire on a slow,
// shared machine, short enough to fail a stuck test instead of hanging it.
const cliWait = 15 * time.Second

// cliCtx returns a context that ends with the test.
func cliCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), cliWait)
	t.Cleanup(cancel)
	return ctx
}

// cliClient returns a client on cfg, closed when the test ends.
func cliClient(t testing.TB, h Handler, cfg Config) *Client {
	t.Helper()
	cl, err := NewClient(h, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// cliDial dials and fails the test on error.
func cliDial(t testing.TB, cl *Client, rawURL string, o *DialOptions) *Conn {
	t.Helper()
	c, resp, err := cl.Dial(cliCtx(t), rawURL, o)
	if err != nil {
		t.Fatalf("dial %s: %v", rawURL, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("dial %s: status %d", rawURL, resp.StatusCode)
	}
	t.Cleanup(c.Abort)
	return c
}

// cliRecv takes the next value from ch, failing the test after cliWait.
func cliRecv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(cliWait):
		t.Fatalf("no %s within %v", what, cliWait)
	}
	var zero T
	return zero
}

// cliHandshakeError asserts err is a *upgrade.HandshakeError with status.
func cliHandshakeError(t testing.TB, err error, status int) *upgrade.HandshakeError {
	t.Helper()
	var he *upgrade.HandshakeError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v (%T), want *upgrade.HandshakeError %d", err, err, status)
	}
	if he.Status != status {
		t.Fatalf("HandshakeError status %d (%v), want %d", he.Status, he, status)
	}
	return he
}

type cliMsg struct {
	op   frame.Opcode
	data []byte
}

// cliPeer is a Handler, for either end, that records what arrives; with echo set it
// answers every message with itself instead of recording it.
type cliPeer struct {
	echo   bool
	opened chan *Conn
	msgs   chan cliMsg
	pings  chan string
	pongs  chan string
	closed chan closeRecord
}

func newCliPeer(echo bool) *cliPeer {
	return &cliPeer{
		echo:   echo,
		opened: make(chan *Conn, 256),
		msgs:   make(chan cliMsg, 256),
		pings:  make(chan string, 16),
		pongs:  make(chan string, 16),
		closed: make(chan closeRecord, 256),
	}
}

func (h *cliPeer) OnOpen(c *Conn) { h.opened <- c }
func (h *cliPeer) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	if h.echo {
		c.WriteMessage(op, p)
		return
	}
	h.msgs <- cliMsg{op, bytes.Clone(p)}
}
func (h *cliPeer) OnFrame(*Conn, frame.Header, []byte) {}
func (h *cliPeer) OnPing(c *Conn, p []byte) bool       { h.pings <- string(p); return true }
func (h *cliPeer) OnPong(c *Conn, p []byte)            { h.pongs <- string(p) }
func (h *cliPeer) OnDrain(*Conn)                       {}
func (h *cliPeer) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}

// cliSizes are the payload sizes every echo test sends: empty, the largest 7-bit
// length, the smallest 16-bit one, 64 KiB (a 16-bit length's edge is 65535) and
// 1 MiB (64-bit length, many reads).
var cliSizes = []int{0, 125, 126, 65536, 1 << 20}

// cliPayload returns n bytes for op: valid UTF-8 for text (multi-byte runes
// included), every byte value for binary.
func cliPayload(op frame.Opcode, n int) []byte {
	p := make([]byte, n)
	if op == frame.OpBinary {
		for i := range p {
			p[i] = byte(i*7 + i>>8)
		}
		return p
	}
	for i := 0; i < n; {
		if n-i >= 3 && i%5 == 0 {
			copy(p[i:], "€") // 3 bytes
			i += 3
			continue
		}
		p[i] = 'a' + byte(i%26)
		i++
	}
	return p
}

// cliEchoRead sends every size both ways and reads the echoes with ReadMessage.
func cliEchoRead(t *testing.T, c *Conn) {
	t.Helper()
	ctx := cliCtx(t)
	for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
		for _, n := range cliSizes {
			p := cliPayload(op, n)
			orig := bytes.Clone(p)
			if err := c.WriteMessage(op, p); err != nil {
				t.Fatalf("write %v %d: %v", op, n, err)
			}
			mustEqual(t, p, orig) // masking never touches the caller's slice
			gop, got, err := c.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("read %v %d: %v", op, n, err)
			}
			if gop != op {
				t.Fatalf("echo of %v %d came back as %v", op, n, gop)
			}
			mustEqual(t, got, p)
		}
	}
}

// cliEchoHandler sends every size both ways and takes the echoes from h, the
// connection's Handler.
func cliEchoHandler(t *testing.T, c *Conn, h *cliPeer) {
	t.Helper()
	for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
		for _, n := range cliSizes {
			p := cliPayload(op, n)
			if err := c.WriteMessage(op, p); err != nil {
				t.Fatalf("write %v %d: %v", op, n, err)
			}
			m := cliRecv(t, h.msgs, fmt.Sprintf("echo of %v %d", op, n))
			if m.op != op {
				t.Fatalf("echo of %v %d came back as %v", op, n, m.op)
			}
			mustEqual(t, m.data, p)
		}
	}
}

// cliEchoOnce checks that one text message comes back through c.
func cliEchoOnce(t *testing.T, c *Conn) {
	t.Helper()
	if err := c.WriteText("once"); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "once" {
		t.Fatalf("echo %q %v", p, err)
	}
}

// cliCloseRead closes c with 1000 and checks that ReadMessage reports the
// completed close handshake.
func cliCloseRead(t *testing.T, c *Conn) {
	t.Helper()
	if err := c.Close(frame.StatusNormalClosure, "done"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliWait)
	defer cancel()
	_, _, err := c.ReadMessage(ctx)
	if CloseStatus(err) != frame.StatusNormalClosure {
		t.Fatalf("after Close, ReadMessage = %v", err)
	}
}

// ---------------------------------------------------------------------------
// A self-signed certificate for wss, made once per test binary.

type cliCert struct {
	cert    tls.Certificate
	pool    *x509.CertPool
	certPEM []byte
	keyPEM  []byte
}

var (
	cliCertOnce sync.Once
	cliCertVal  cliCert
	cliCertErr  error
)

// cliTestCert returns an ECDSA P-256 certificate for 127.0.0.1, ::1 and localhost,
// self-signed, and a pool that trusts it.
func cliTestCert(t testing.TB) cliCert {
	t.Helper()
	cliCertOnce.Do(func() {
		cert, pool, err := testcert.New("127.0.0.1", "::1", "localhost")
		if err != nil {
			cliCertErr = err
			return
		}
		certPEM, keyPEM, err := testcert.PEM(cert)
		if err != nil {
			cliCertErr = err
			return
		}
		cliCertVal = cliCert{cert: cert, pool: pool, certPEM: certPEM, keyPEM: keyPEM}
	})
	if cliCertErr != nil {
		t.Fatal(cliCertErr)
	}
	return cliCertVal
}

// cliTLSServer serves h over TLS with the test certificate (goroutine mode, since
// a tls.Listener's connections have no fd to take).
func cliTLSServer(t testing.TB, h Handler, cfg Config, u *upgrade.Upgrader) string {
	t.Helper()
	s, err := NewServer(h, &cfg, u)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}
	if err := s.Start(tls.NewListener(ln, tc)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}
