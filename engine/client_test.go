package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The client (Client.Dial, ReadMessage, NetConn) against weir's own server and
// against a third-party one: ws from npm, run by node from testdata/nodews.

// ---------------------------------------------------------------------------
// Helpers.

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
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			cliCertErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "weir test"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			DNSNames:              []string{"localhost"},
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			cliCertErr = err
			return
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			cliCertErr = err
			return
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			cliCertErr = err
			return
		}
		pool := x509.NewCertPool()
		pool.AddCert(leaf)
		cliCertVal = cliCert{
			cert:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
			pool:    pool,
			certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		}
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

// ---------------------------------------------------------------------------
// The Node ws server (testdata/nodews/server.js): a process per test that needs it.

type cliNodeEvent struct {
	Event  string `json:"event"`
	ID     string `json:"id"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

type cliNodeWS struct {
	addr   string
	mu     sync.Mutex
	evs    map[string]chan cliNodeEvent
	stderr *cliLockedBuffer
}

// events returns the channel on which server.js reports the connection dialled
// with ?id=id (its close, or that /hang holds it). Call it before dialling.
func (n *cliNodeWS) events(id string) <-chan cliNodeEvent { return n.eventChan(id) }

func (n *cliNodeWS) eventChan(id string) chan cliNodeEvent {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.evs[id]
	if !ok {
		ch = make(chan cliNodeEvent, 4)
		n.evs[id] = ch
	}
	return ch
}

type cliLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *cliLockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *cliLockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var (
	cliNodeSetupOnce sync.Once
	cliNodeSetupErr  error
	cliNodeSkip      string
	cliNodeDir       string
	cliNodeBin       string

	nodeMu      sync.Mutex
	nodeServers = map[bool]*cliNodeWS{}
)

// cliNodeSetup finds node and the ws package. In CI (CI=true) both must be there
// (.ci/run installs them); elsewhere a missing node skips the Node tests and missing
// node_modules are installed with npm ci from the lockfile.
func cliNodeSetup(t testing.TB) {
	t.Helper()
	cliNodeSetupOnce.Do(func() {
		ci := os.Getenv("CI") == "true"
		dir, err := filepath.Abs(filepath.Join("testdata", "nodews"))
		if err != nil {
			cliNodeSetupErr = err
			return
		}
		cliNodeDir = dir
		cliNodeBin, err = exec.LookPath("node")
		if err != nil {
			if ci {
				cliNodeSetupErr = fmt.Errorf("CI must provide node: %w", err)
			} else {
				cliNodeSkip = "node not found: " + err.Error()
			}
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err == nil {
			return
		}
		if ci {
			cliNodeSetupErr = fmt.Errorf("CI must run npm ci in %s: node_modules/ws is missing", dir)
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			cliNodeSkip = "npm not found: " + err.Error()
			return
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			cliNodeSetupErr = fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
		}
	})
	if cliNodeSetupErr != nil {
		t.Fatal(cliNodeSetupErr)
	}
	if cliNodeSkip != "" {
		t.Skip(cliNodeSkip)
	}
}

// cliNode starts a Node ws server, plain or TLS, for the test; it stops when the
// test ends (node exits when its stdin closes).
func cliNode(t testing.TB, secure bool) *cliNodeWS {
	t.Helper()
	cliNodeSetup(t)
	args := []string{"server.js"}
	if secure {
		dir := t.TempDir()
		c := cliTestCert(t)
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := os.WriteFile(certFile, c.certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, c.keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--tls", certFile, keyFile)
	}
	cmd := exec.Command(cliNodeBin, args...)
	cmd.Dir = cliNodeDir
	n := &cliNodeWS{evs: map[string]chan cliNodeEvent{}, stderr: &cliLockedBuffer{}}
	cmd.Stderr = n.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	sc := bufio.NewScanner(stdout)
	stop := func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	if !sc.Scan() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("node server.js printed no port: %v\n%s", sc.Err(), n.stderr)
	}
	var hello struct{ Port int }
	if err := json.Unmarshal(sc.Bytes(), &hello); err != nil || hello.Port == 0 {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("node server.js first line %q: %v\n%s", sc.Text(), err, n.stderr)
	}
	n.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(hello.Port))
	go func() {
		defer close(done)
		for sc.Scan() {
			var ev cliNodeEvent
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Event == "" {
				continue
			}
			select {
			case n.eventChan(ev.ID) <- ev:
			default:
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(stop)
	return n
}

// cliNodeID returns a fresh connection tag for the Node server's events.
var cliNodeIDs atomic.Int64

func cliNodeID(t testing.TB) string {
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "."), cliNodeIDs.Add(1))
}

// cliNodeInfo is what server.js sends first on /info.
type cliNodeInfo struct {
	Path     string            `json:"path"`
	Version  string            `json:"version"`
	Protocol string            `json:"protocol"`
	Origin   string            `json:"origin"`
	Headers  map[string]string `json:"headers"`
	Remote   string            `json:"remote"`
}

func cliReadNodeInfo(t *testing.T, c *Conn) cliNodeInfo {
	t.Helper()
	op, p, err := c.ReadMessage(cliCtx(t))
	if err != nil || op != frame.OpText {
		t.Fatalf("info message: %v %v", op, err)
	}
	var info cliNodeInfo
	if err := json.Unmarshal(p, &info); err != nil {
		t.Fatalf("info %q: %v", p, err)
	}
	return info
}

// ---------------------------------------------------------------------------
// Small test servers: silent, a fake handshake answer, an HTTP CONNECT proxy.

// cliSilentServer accepts TCP connections and never answers. Accepted connections are
// sent on the returned channel.
func cliSilentServer(t testing.TB) (string, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			ch <- nc
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String(), ch
}

// cliPeerGone reads nc until the other end closes it.
func cliPeerGone(t testing.TB, nc net.Conn) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(cliWait))
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the client did not close its connection")
	}
}

// cliFakeServer answers every handshake with a 101 whose accept hash is right and
// whose Sec-WebSocket-Protocol is proto, then holds the connection.
func cliFakeServer(t testing.TB, proto string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				req, err := http.ReadRequest(bufio.NewReader(nc))
				if err != nil {
					return
				}
				fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
					upgrade.AcceptKey(req.Header.Get("Sec-WebSocket-Key")), proto)
				io.Copy(io.Discard, nc)
			}()
		}
	}()
	return ln.Addr().String()
}

// cliProxy is an HTTP CONNECT proxy (RFC 9110 §9.3.6): it reads one CONNECT, dials
// the target, answers 200 and pipes both ways.
type cliProxy struct {
	ln       net.Listener
	wantAuth string // when set, a CONNECT without this Proxy-Authorization gets 407
	hang     bool   // read the CONNECT and never answer

	mu       sync.Mutex
	connects []cliConnect
	conns    []net.Conn
	seen     chan cliConnect
}

type cliConnect struct {
	target, auth string
}

func cliStartProxy(t testing.TB, wantAuth string, hang bool) *cliProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cliProxy{ln: ln, wantAuth: wantAuth, hang: hang, seen: make(chan cliConnect, 16)}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			p.track(nc)
			go p.serve(nc)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, nc := range p.conns {
			nc.Close()
		}
		p.mu.Unlock()
	})
	return p
}

func (p *cliProxy) track(nc net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, nc)
	p.mu.Unlock()
}

// url returns the proxy's URL, with user info when user is set.
func (p *cliProxy) url(user *url.Userinfo) *url.URL {
	return &url.URL{Scheme: "http", Host: p.ln.Addr().String(), User: user}
}

func (p *cliProxy) used() []cliConnect {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]cliConnect(nil), p.connects...)
}

func (p *cliProxy) serve(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(nc, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	pc := cliConnect{target: req.RequestURI, auth: req.Header.Get("Proxy-Authorization")}
	p.mu.Lock()
	p.connects = append(p.connects, pc)
	p.mu.Unlock()
	select {
	case p.seen <- pc:
	default:
	}
	if p.hang {
		io.Copy(io.Discard, br)
		return
	}
	if p.wantAuth != "" && pc.auth != p.wantAuth {
		io.WriteString(nc, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"weir\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", pc.target)
	if err != nil {
		io.WriteString(nc, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	p.track(up)
	defer up.Close()
	io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		io.Copy(up, br) // br may hold bytes sent right after the CONNECT
		if tc, ok := up.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		close(done)
	}()
	io.Copy(nc, up)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	<-done
}

// ---------------------------------------------------------------------------
// Echo.

func TestClientEcho(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, newCliPeer(true), cfg, nil)
		t.Run("ReadMessage", func(t *testing.T) {
			t.Parallel()
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
			cliEchoRead(t, c)
			cliCloseRead(t, c)
		})
		t.Run("Handler", func(t *testing.T) {
			t.Parallel()
			h := newCliPeer(false)
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Handler: h})
			if got := cliRecv(t, h.opened, "client OnOpen"); got != c {
				t.Fatal("OnOpen got another Conn")
			}
			if _, _, err := c.ReadMessage(cliCtx(t)); !errors.Is(err, ErrNoQueue) {
				t.Fatalf("ReadMessage on a Handler conn = %v, want ErrNoQueue", err)
			}
			cliEchoHandler(t, c, h)
			c.Close(frame.StatusNormalClosure, "")
			if r := cliRecv(t, h.closed, "client OnClose"); r.code != frame.StatusNormalClosure || r.err != nil {
				t.Fatalf("client OnClose %d %q %v", r.code, r.reason, r.err)
			}
		})
		t.Run("ClientDefaultHandler", func(t *testing.T) {
			// NewClient's handler serves connections dialled without one.
			t.Parallel()
			h := newCliPeer(false)
			c := cliDial(t, cliClient(t, h, cfg), "ws://"+addr+"/", nil)
			cliRecv(t, h.opened, "client OnOpen")
			if err := c.WriteText("default handler"); err != nil {
				t.Fatal(err)
			}
			if m := cliRecv(t, h.msgs, "echo"); string(m.data) != "default handler" {
				t.Fatalf("echo %q", m.data)
			}
		})
	})
}

func TestClientEchoNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		t.Run("ReadMessage", func(t *testing.T) {
			t.Parallel()
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+n.addr+"/echo", nil)
			cliEchoRead(t, c)
			cliCloseRead(t, c)
		})
		t.Run("Handler", func(t *testing.T) {
			t.Parallel()
			h := newCliPeer(false)
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+n.addr+"/echo", &DialOptions{Handler: h})
			cliRecv(t, h.opened, "client OnOpen")
			cliEchoHandler(t, c, h)
		})
	})
}

// TestClientDialDefault uses the package-level Dial and its shared Client. It runs
// alone (not parallel: top-level parallel tests wait for the sequential ones), so
// it can stop the shared client afterwards and leave no goroutine behind.
func TestClientDialDefault(t *testing.T) {
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	t.Cleanup(func() {
		if defaultClient != nil {
			defaultClient.Close()
		}
		defaultClientOnce, defaultClient, defaultClientErr = sync.Once{}, nil, nil
	})
	c, resp, err := Dial(cliCtx(t), "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	if resp.StatusCode != 101 || !c.IsClient() || c.State() != StateOpen {
		t.Fatalf("status %d client %v state %v", resp.StatusCode, c.IsClient(), c.State())
	}
	if err := c.WriteText("shared"); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "shared" {
		t.Fatalf("read %q %v", p, err)
	}
	cliCloseRead(t, c)
}

// TestClientUnixSocket dials ws+unix:/path:/resource.
func TestClientUnixSocket(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		seen := make(chan string, 1)
		s, err := NewServer(newCliPeer(true), &cfg, &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			seen <- strings.Clone(r.Resource()) // the view aliases the request buffer
		}})
		if err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(t.TempDir(), "w.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ln); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c := cliDial(t, cliClient(t, nil, cfg), "ws+unix:"+sock+":/over/unix?x=1", nil)
		if r := cliRecv(t, seen, "handshake"); r != "/over/unix?x=1" {
			t.Fatalf("resource %q", r)
		}
		if err := c.WriteBinary([]byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || !bytes.Equal(p, []byte{1, 2, 3}) {
			t.Fatalf("read %v %v", p, err)
		}
		cliCloseRead(t, c)
	})
}

// ---------------------------------------------------------------------------
// Subprotocols.

func TestClientSubprotocol(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, &upgrade.Upgrader{Subprotocols: []string{"v2.weir", "v1.weir"}})
		cl := cliClient(t, nil, cfg)
		for _, tc := range []struct {
			name  string
			offer []string
			want  string
		}{
			{"server preference wins", []string{"v1.weir", "v2.weir"}, "v2.weir"},
			{"only one in common", []string{"x.other", "v1.weir"}, "v1.weir"},
			{"none in common", []string{"x.other"}, ""},
			{"none offered", nil, ""},
		} {
			c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{Subprotocols: tc.offer})
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if c.Subprotocol() != tc.want || sc.Subprotocol() != tc.want {
				t.Fatalf("%s: client %q server %q, want %q", tc.name, c.Subprotocol(), sc.Subprotocol(), tc.want)
			}
			c.Abort()
		}
	})
}

func TestClientSubprotocolNotOffered(t *testing.T) {
	t.Parallel()
	t.Run("weir server refuses its own bad pick", func(t *testing.T) {
		// weir's server never sends a pick that was not offered: it answers 500.
		t.Parallel()
		_, addr := startServer(t, newCliPeer(true), Config{}, &upgrade.Upgrader{
			SelectSubprotocol: func(*upgrade.Request) string { return "never-offered" },
		})
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{Subprotocols: []string{"a", "b"}})
		he := cliHandshakeError(t, err, http.StatusInternalServerError)
		if !strings.Contains(string(he.Body), "not offered") {
			t.Fatalf("body %q", he.Body)
		}
	})
	t.Run("fake server", func(t *testing.T) {
		t.Parallel()
		addr := cliFakeServer(t, "never-offered")
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{Subprotocols: []string{"a", "b"}})
		if !errors.Is(err, upgrade.ErrUnexpectedSubprotocol) {
			t.Fatalf("err = %v, want ErrUnexpectedSubprotocol", err)
		}
	})
	t.Run("fake server, nothing offered", func(t *testing.T) {
		t.Parallel()
		addr := cliFakeServer(t, "never-offered")
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", nil)
		if !errors.Is(err, upgrade.ErrUnexpectedSubprotocol) {
			t.Fatalf("err = %v, want ErrUnexpectedSubprotocol", err)
		}
	})
}

func TestClientSubprotocolNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		cl := cliClient(t, nil, cfg)
		c := cliDial(t, cl, "ws://"+n.addr+"/info", &DialOptions{Subprotocols: []string{"v1.weir", "v2.weir"}})
		info := cliReadNodeInfo(t, c)
		if c.Subprotocol() != "v2.weir" || info.Protocol != "v2.weir" {
			t.Fatalf("client %q, node %q, want v2.weir", c.Subprotocol(), info.Protocol)
		}
		if got := info.Headers["sec-websocket-protocol"]; got != "v1.weir, v2.weir" {
			t.Fatalf("node saw offer %q", got)
		}
		c = cliDial(t, cl, "ws://"+n.addr+"/info", &DialOptions{Subprotocols: []string{"x.other"}})
		if info := cliReadNodeInfo(t, c); c.Subprotocol() != "" || info.Protocol != "" {
			t.Fatalf("no common subprotocol: client %q node %q", c.Subprotocol(), info.Protocol)
		}
		// handleProtocols picks a name the client never offered.
		_, _, err := cl.Dial(cliCtx(t), "ws://"+n.addr+"/bogus-proto", &DialOptions{Subprotocols: []string{"v1.weir"}})
		if !errors.Is(err, upgrade.ErrUnexpectedSubprotocol) {
			t.Fatalf("err = %v, want ErrUnexpectedSubprotocol", err)
		}
	})
}

// ---------------------------------------------------------------------------
// Non-101 answers.

func TestClientHandshakeRejected(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, &upgrade.Upgrader{
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			switch r.Path() {
			case "/forbidden":
				d.Header().Add("Retry-After", "120")
				d.Reject(http.StatusForbidden, "members only")
			case "/old":
				d.Header().Add("Sec-WebSocket-Version", "13")
				d.Reject(http.StatusUpgradeRequired, "upgrade your client")
			}
		},
	})
	cl := cliClient(t, nil, Config{})
	for _, tc := range []struct {
		name, path string
		o          *DialOptions
		status     int
		body       string
		header     [2]string
	}{
		{"403 from verify", "/forbidden", nil, 403, "members only", [2]string{"Retry-After", "120"}},
		{"403 origin policy", "/", &DialOptions{Origin: "https://elsewhere.example"}, 403, "origin not allowed", [2]string{"Connection", "close"}},
		{"426 from verify", "/old", nil, 426, "upgrade your client", [2]string{"Sec-WebSocket-Version", "13"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := cl.Dial(cliCtx(t), "ws://"+addr+tc.path, tc.o)
			if c != nil || resp != nil {
				t.Fatalf("a failed Dial returned conn %v resp %v", c, resp)
			}
			he := cliHandshakeError(t, err, tc.status)
			if !strings.Contains(string(he.Body), tc.body) {
				t.Fatalf("body %q, want %q", he.Body, tc.body)
			}
			if got := he.Header.Get(tc.header[0]); !strings.EqualFold(got, tc.header[1]) {
				t.Fatalf("header %s = %q, want %q (%v)", tc.header[0], got, tc.header[1], he.Header)
			}
		})
	}
}

// TestClientHandshakeRejectedLongBody: a rejection's body is kept up to
// upgrade.DefaultErrorBodyLimit, de-chunked (net/http sends a long body chunked).
func TestClientHandshakeRejectedLongBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789abcdef", 1<<10) // 16 KiB
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Why", "long")
		w.WriteHeader(http.StatusForbidden)
		for i := 0; i < len(body); i += 1000 {
			io.WriteString(w, body[i:min(i+1000, len(body))])
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(hs.Close)
	_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
	he := cliHandshakeError(t, err, http.StatusForbidden)
	if he.Header.Get("X-Why") != "long" || he.Header.Get("Transfer-Encoding") == "" && len(he.Body) == 0 {
		t.Fatalf("headers %v", he.Header)
	}
	if string(he.Body) != body[:upgrade.DefaultErrorBodyLimit] {
		t.Fatalf("body: %d bytes %q..., want the first %d bytes of the body", len(he.Body), trunc(he.Body), upgrade.DefaultErrorBodyLimit)
	}
}

func TestClientHandshakeRejectedNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	cl := cliClient(t, nil, Config{})
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/forbidden", 403, "forbidden by node ws"},
		{"/upgrade-required", 426, "upgrade required by node ws"},
	} {
		_, _, err := cl.Dial(cliCtx(t), "ws://"+n.addr+tc.path, nil)
		he := cliHandshakeError(t, err, tc.status)
		if string(he.Body) != tc.body {
			t.Fatalf("%s: body %q, want %q", tc.path, he.Body, tc.body)
		}
		if he.Header.Get("X-Test-Server") != "node-ws" {
			t.Fatalf("%s: headers %v", tc.path, he.Header)
		}
	}
}

// ---------------------------------------------------------------------------
// Cancel and timeout during the dial.

func TestClientDialCancel(t *testing.T) {
	t.Parallel()
	// cancelDial dials u with a minute of HandshakeTimeout, waits for started (the
	// server side has seen the client) and cancels: the error must say Canceled,
	// not a deadline, so the minute never ran out.
	cancelDial := func(t *testing.T, u string, o *DialOptions, started func()) error {
		t.Helper()
		if o == nil {
			o = &DialOptions{}
		}
		o.HandshakeTimeout = time.Minute
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			c, _, err := cliClient(t, nil, Config{}).Dial(ctx, u, o)
			if c != nil {
				c.Abort()
			}
			errc <- err
		}()
		started()
		cancel()
		err := cliRecv(t, errc, "Dial to return after cancel")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v (%T), want one wrapping context.Canceled", err, err)
		}
		return err
	}
	t.Run("already canceled", func(t *testing.T) {
		t.Parallel()
		addr, _ := cliSilentServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := cliClient(t, nil, Config{}).Dial(ctx, "ws://"+addr+"/", nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want one wrapping context.Canceled", err)
		}
	})
	t.Run("handshake", func(t *testing.T) {
		t.Parallel()
		addr, accepted := cliSilentServer(t)
		var nc net.Conn
		cancelDial(t, "ws://"+addr+"/", nil, func() {
			nc = cliRecv(t, accepted, "accept")
			// The request arrives: the client waits for the answer now.
			buf := make([]byte, 4)
			if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "GET " {
				t.Fatalf("request %q %v", buf, err)
			}
		})
		cliPeerGone(t, nc)
	})
	t.Run("tls handshake", func(t *testing.T) {
		t.Parallel()
		addr, accepted := cliSilentServer(t)
		var nc net.Conn
		cancelDial(t, "wss://"+addr+"/", &DialOptions{TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool}}, func() {
			nc = cliRecv(t, accepted, "accept")
			buf := make([]byte, 1)
			if _, err := io.ReadFull(nc, buf); err != nil || buf[0] != 0x16 { // a TLS handshake record
				t.Fatalf("ClientHello %x %v", buf, err)
			}
		})
		cliPeerGone(t, nc)
	})
	t.Run("proxy CONNECT", func(t *testing.T) {
		t.Parallel()
		p := cliStartProxy(t, "", true)
		cancelDial(t, "ws://127.0.0.1:1/", &DialOptions{Proxy: http.ProxyURL(p.url(nil))}, func() {
			cliRecv(t, p.seen, "CONNECT")
		})
	})
	t.Run("node ws never answers", func(t *testing.T) {
		t.Parallel()
		n := cliNode(t, false)
		id := cliNodeID(t)
		ev := n.events(id)
		cancelDial(t, "ws://"+n.addr+"/hang?id="+id, nil, func() {
			if e := cliRecv(t, ev, "node holding the request"); e.Event != "hang" {
				t.Fatalf("node reported %+v", e)
			}
		})
	})
}

func TestClientHandshakeTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (string, *DialOptions)
	}{
		{"handshake", func(t *testing.T) (string, *DialOptions) {
			addr, _ := cliSilentServer(t)
			return "ws://" + addr + "/", &DialOptions{}
		}},
		{"proxy CONNECT", func(t *testing.T) (string, *DialOptions) {
			p := cliStartProxy(t, "", true)
			return "ws://127.0.0.1:1/", &DialOptions{Proxy: http.ProxyURL(p.url(nil))}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, o := tc.setup(t)
			o.HandshakeTimeout = 200 * time.Millisecond
			_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), u, o)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v (%T), want one wrapping context.DeadlineExceeded", err, err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// HTTP CONNECT proxies.

func TestClientProxy(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	echoOnce := func(t *testing.T, c *Conn) {
		t.Helper()
		if err := c.WriteText("through the tunnel"); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "through the tunnel" {
			t.Fatalf("echo %q %v", p, err)
		}
	}
	t.Run("Proxy func", func(t *testing.T) {
		t.Parallel()
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, Config{}, nil)
		p := cliStartProxy(t, "", false)
		var asked atomic.Int32
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", &DialOptions{Proxy: func(r *http.Request) (*url.URL, error) {
			asked.Add(1)
			if r.URL.Host != addr || r.URL.Scheme != "http" {
				t.Errorf("Proxy asked for %v", r.URL)
			}
			return p.url(nil), nil
		}})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].target != addr || got[0].auth != "" || asked.Load() != 1 {
			t.Fatalf("CONNECTs %+v, Proxy calls %d", got, asked.Load())
		}
		// The server's peer is the proxy's own socket, not the client's.
		sc := cliRecv(t, srv.opened, "server OnOpen")
		if sc.RemoteAddr() == c.LocalAddr() {
			t.Fatal("the connection did not go through the proxy")
		}
	})
	t.Run("Proxy-Authorization from user info", func(t *testing.T) {
		t.Parallel()
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr:t"))
		p := cliStartProxy(t, want, false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", &DialOptions{
			Proxy: http.ProxyURL(p.url(url.UserPassword("alice", "s3cr:t"))),
		})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].auth != want {
			t.Fatalf("CONNECTs %+v", got)
		}
	})
	t.Run("407 is ErrProxy", func(t *testing.T) {
		t.Parallel()
		p := cliStartProxy(t, "Basic bm9ib2R5Om5vcGU=", false)
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
			Proxy: http.ProxyURL(p.url(url.UserPassword("alice", "wrong"))),
		})
		if !errors.Is(err, ErrProxy) || !strings.Contains(err.Error(), "407") {
			t.Fatalf("err = %v, want ErrProxy with 407", err)
		}
	})
	t.Run("Proxy error", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("no proxy today")
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
			Proxy: func(*http.Request) (*url.URL, error) { return nil, boom },
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the Proxy func's", err)
		}
	})
	t.Run("NoProxy", func(t *testing.T) {
		t.Parallel()
		p := cliStartProxy(t, "", false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", &DialOptions{
			NoProxy: true, Proxy: http.ProxyURL(p.url(nil)),
		})
		echoOnce(t, c)
		if got := p.used(); len(got) != 0 {
			t.Fatalf("NoProxy still used the proxy: %+v", got)
		}
	})
	t.Run("wss through the proxy", func(t *testing.T) {
		t.Parallel()
		taddr := cliTLSServer(t, newCliPeer(true), Config{}, nil)
		_, port, _ := net.SplitHostPort(taddr)
		p := cliStartProxy(t, "", false)
		var scheme string
		c := cliDial(t, cliClient(t, nil, Config{}), "wss://localhost:"+port+"/", &DialOptions{
			TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool},
			Proxy: func(r *http.Request) (*url.URL, error) {
				scheme = r.URL.Scheme
				return p.url(nil), nil
			},
		})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].target != "localhost:"+port || scheme != "https" {
			t.Fatalf("CONNECTs %+v, Proxy saw scheme %q", got, scheme)
		}
	})
	t.Run("node ws through the proxy", func(t *testing.T) {
		t.Parallel()
		n := cliNode(t, false)
		p := cliStartProxy(t, "", false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+n.addr+"/echo", &DialOptions{Proxy: http.ProxyURL(p.url(nil))})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].target != n.addr {
			t.Fatalf("CONNECTs %+v", got)
		}
	})
}

// ---------------------------------------------------------------------------
// Redirects.

type cliSeen struct {
	path, host, auth, cookie string
	hops                     []string
}

func TestClientRedirect(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		seen := make(chan cliSeen, 16)
		s, err := NewServer(newCliPeer(true), &cfg, &upgrade.Upgrader{
			Verify: func(r *upgrade.Request, d *upgrade.Decision) {
				var hops []string
				for v := range r.Values("X-Hop") {
					hops = append(hops, strings.Clone(v))
				}
				seen <- cliSeen{strings.Clone(r.Path()), strings.Clone(r.Host()), strings.Clone(r.Header("Authorization")), strings.Clone(r.Header("Cookie")), hops}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		mux := http.NewServeMux()
		mux.Handle("/ws", s)
		hs := httptest.NewServer(mux)
		t.Cleanup(hs.Close)
		port := hs.Listener.Addr().(*net.TCPAddr).Port
		redirect := func(from, to string) {
			mux.HandleFunc(from, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, to, http.StatusFound)
			})
		}
		redirect("/same", "/ws")
		redirect("/same-abs", fmt.Sprintf("ws://127.0.0.1:%d/ws", port))
		redirect("/other", fmt.Sprintf("ws://localhost:%d/ws", port))
		redirect("/other-http", fmt.Sprintf("http://localhost:%d/ws", port))
		redirect("/hop2", "/hop1")
		redirect("/hop1", "/ws")
		redirect("/hop3", "/hop2")
		base := fmt.Sprintf("ws://127.0.0.1:%d", port)
		creds := func() http.Header {
			return http.Header{"Authorization": {"Bearer t0k3n"}, "Cookie": {"session=abc"}}
		}
		cl := cliClient(t, nil, cfg)

		t.Run("MaxRedirects 0 returns the 302", func(t *testing.T) {
			_, _, err := cl.Dial(cliCtx(t), base+"/same", nil)
			he := cliHandshakeError(t, err, http.StatusFound)
			if he.Header.Get("Location") != "/ws" {
				t.Fatalf("Location %q", he.Header.Get("Location"))
			}
		})
		for _, path := range []string{"/same", "/same-abs"} {
			t.Run("same host keeps credentials "+path, func(t *testing.T) {
				c := cliDial(t, cl, base+path, &DialOptions{MaxRedirects: 2, Header: creds()})
				r := cliRecv(t, seen, "handshake")
				if r.path != "/ws" || r.auth != "Bearer t0k3n" || r.cookie != "session=abc" {
					t.Fatalf("server saw %+v", r)
				}
				cliEchoOnce(t, c)
			})
		}
		for _, path := range []string{"/other", "/other-http"} {
			t.Run("other host drops credentials "+path, func(t *testing.T) {
				h := creds()
				c := cliDial(t, cl, base+path, &DialOptions{MaxRedirects: 2, Header: h})
				r := cliRecv(t, seen, "handshake")
				if r.path != "/ws" || r.host != fmt.Sprintf("localhost:%d", port) || r.auth != "" || r.cookie != "" {
					t.Fatalf("server saw %+v", r)
				}
				if h.Get("Authorization") == "" {
					t.Fatal("Dial changed the caller's Header")
				}
				cliEchoOnce(t, c)
			})
		}
		for _, path := range []string{"/same", "/same-abs"} {
			t.Run("same host keeps URL user info "+path, func(t *testing.T) {
				// Like ws: the Basic credentials of the dialled URL are the
				// first request's Authorization, kept while the host stays the
				// same, whether Location is relative or absolute.
				u := fmt.Sprintf("ws://alice:pw@127.0.0.1:%d%s", port, path)
				c := cliDial(t, cl, u, &DialOptions{MaxRedirects: 2})
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw"))
				if r := cliRecv(t, seen, "handshake"); r.path != "/ws" || r.auth != want {
					t.Errorf("server saw %+v, want Authorization %q", r, want)
				}
				cliEchoOnce(t, c)
			})
		}
		t.Run("other host drops URL user info", func(t *testing.T) {
			u := fmt.Sprintf("ws://alice:pw@127.0.0.1:%d/other", port)
			c := cliDial(t, cl, u, &DialOptions{MaxRedirects: 2})
			if r := cliRecv(t, seen, "handshake"); r.path != "/ws" || r.auth != "" {
				t.Fatalf("server saw %+v", r)
			}
			cliEchoOnce(t, c)
		})
		t.Run("one DialOptions shared by concurrent dials", func(t *testing.T) {
			// Dial must not write to the caller's options (the race detector
			// watches): a program keeps one DialOptions for all its dials.
			o := &DialOptions{MaxRedirects: 2, Header: creds(), Subprotocols: []string{"a"},
				OnRequest: func(r *upgrade.ClientRequest) error { r.Header.Add("X-Hop", "1"); return nil }}
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := []string{"/same", "/other"}[i%2]
					c, _, err := cl.Dial(cliCtx(t), base+path, o)
					if err != nil {
						errs <- err
						return
					}
					c.Abort()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for range 8 {
				r := cliRecv(t, seen, "handshake")
				if len(r.hops) != 1 {
					t.Fatalf("X-Hop %q", r.hops)
				}
			}
			if len(o.Header) != 2 || o.Header.Get("Authorization") != "Bearer t0k3n" {
				t.Fatalf("the shared Header changed: %v", o.Header)
			}
		})
		t.Run("two hops within MaxRedirects 2", func(t *testing.T) {
			c := cliDial(t, cl, base+"/hop2", &DialOptions{MaxRedirects: 2})
			if r := cliRecv(t, seen, "handshake"); r.path != "/ws" {
				t.Fatalf("server saw %+v", r)
			}
			cliEchoOnce(t, c)
		})
		t.Run("three hops over MaxRedirects 2", func(t *testing.T) {
			_, _, err := cl.Dial(cliCtx(t), base+"/hop3", &DialOptions{MaxRedirects: 2})
			he := cliHandshakeError(t, err, http.StatusFound)
			if he.Header.Get("Location") != "/ws" {
				t.Fatalf("stopped at Location %q, want the third hop's", he.Header.Get("Location"))
			}
		})
		t.Run("OnRequest runs per hop on its own copy", func(t *testing.T) {
			// The hook adds a header on every request. Each request must carry it
			// once, and the caller's DialOptions.Header must not change.
			h := creds()
			var calls atomic.Int32
			c := cliDial(t, cl, base+"/same", &DialOptions{MaxRedirects: 2, Header: h, OnRequest: func(r *upgrade.ClientRequest) error {
				calls.Add(1)
				if r.Header == nil {
					r.Header = http.Header{}
				}
				r.Header.Add("X-Hop", r.Resource)
				return nil
			}})
			r := cliRecv(t, seen, "handshake")
			if calls.Load() != 2 {
				t.Fatalf("OnRequest ran %d times, want 2", calls.Load())
			}
			if len(r.hops) != 1 || r.hops[0] != "/ws" {
				t.Errorf("the redirected request carried X-Hop %q, want [/ws]", r.hops)
			}
			if _, ok := h["X-Hop"]; ok {
				t.Errorf("OnRequest changed the caller's DialOptions.Header: %v", h)
			}
			cliEchoOnce(t, c)
		})
	})
}

// ---------------------------------------------------------------------------
// Version 8 (HyBi drafts).

func TestClientVersion8(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		type hs struct {
			version             int
			origin, secWSOrigin string
		}
		seen := make(chan hs, 1)
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, &upgrade.Upgrader{
			CheckOrigin: func(*upgrade.Request) bool { return true },
			Verify: func(r *upgrade.Request, d *upgrade.Decision) {
				seen <- hs{r.Version(), strings.Clone(r.Origin()), strings.Clone(r.Header("Sec-WebSocket-Origin"))}
			},
		})
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Version: 8, Origin: "http://app.example"})
		r := cliRecv(t, seen, "handshake")
		sc := cliRecv(t, srv.opened, "server OnOpen")
		if r.version != 8 || r.origin != "http://app.example" || r.secWSOrigin != "http://app.example" {
			t.Fatalf("server saw %+v", r)
		}
		if c.Version() != 8 || sc.Version() != 8 {
			t.Fatalf("Version client %d server %d, want 8", c.Version(), sc.Version())
		}
		cliEchoRead(t, c)
		cliCloseRead(t, c)
	})
}

func TestClientVersion8NodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	cl := cliClient(t, nil, Config{})
	c := cliDial(t, cl, "ws://"+n.addr+"/info", &DialOptions{Version: 8, Origin: "http://app.example"})
	info := cliReadNodeInfo(t, c)
	if info.Version != "8" || info.Headers["sec-websocket-version"] != "8" || info.Headers["sec-websocket-origin"] != "http://app.example" {
		t.Fatalf("node saw version %q headers %v", info.Version, info.Headers)
	}
	if c.Version() != 8 {
		t.Fatalf("client Version %d", c.Version())
	}
	cliEchoRead(t, c)
	c = cliDial(t, cl, "ws://"+n.addr+"/info", nil)
	if info := cliReadNodeInfo(t, c); info.Version != "13" || c.Version() != 13 {
		t.Fatalf("default version: node %q client %d", info.Version, c.Version())
	}
}

// ---------------------------------------------------------------------------
// wss.

func TestClientTLS(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		addr := cliTLSServer(t, srv, cfg, &upgrade.Upgrader{Subprotocols: []string{"v1.weir"}})
		_, port, _ := net.SplitHostPort(addr)
		cl := cliClient(t, nil, cfg)
		roots := &tls.Config{RootCAs: cliTestCert(t).pool}
		for _, host := range []string{"localhost", "127.0.0.1"} {
			c := cliDial(t, cl, "wss://"+host+":"+port+"/", &DialOptions{TLSConfig: roots, Subprotocols: []string{"v1.weir"}})
			cliRecv(t, srv.opened, "server OnOpen")
			if c.Subprotocol() != "v1.weir" {
				t.Fatalf("subprotocol %q", c.Subprotocol())
			}
			cliEchoRead(t, c)
			cliCloseRead(t, c)
		}
		if roots.ServerName != "" {
			t.Fatal("Dial changed the caller's TLSConfig")
		}
		_, _, err := cl.Dial(cliCtx(t), "wss://localhost:"+port+"/", nil)
		var uae x509.UnknownAuthorityError
		if !errors.As(err, &uae) {
			t.Fatalf("without the root: err = %v (%T), want x509.UnknownAuthorityError", err, err)
		}
		_, _, err = cl.Dial(cliCtx(t), "wss://localhost:"+port+"/", &DialOptions{TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool, ServerName: "wrong.example"}})
		var hne x509.HostnameError
		if !errors.As(err, &hne) {
			t.Fatalf("wrong ServerName: err = %v (%T), want x509.HostnameError", err, err)
		}
	})
}

func TestClientTLSNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, true)
	_, port, _ := net.SplitHostPort(n.addr)
	forModes(t, func(t *testing.T, cfg Config) {
		cl := cliClient(t, nil, cfg)
		c := cliDial(t, cl, "wss://localhost:"+port+"/info", &DialOptions{TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool}})
		if info := cliReadNodeInfo(t, c); info.Headers["host"] != "localhost:"+port {
			t.Fatalf("node saw %+v", info)
		}
		cliEchoRead(t, c)
		cliCloseRead(t, c)
	})
}

// ---------------------------------------------------------------------------
// Ping and pong.

func TestClientPingPong(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, nil)
		h := newCliPeer(false)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Handler: h})
		sc := cliRecv(t, srv.opened, "server OnOpen")
		// Client ping: the server answers on its own.
		if err := c.Ping([]byte("from client")); err != nil {
			t.Fatal(err)
		}
		if p := cliRecv(t, srv.pings, "server OnPing"); p != "from client" {
			t.Fatalf("server ping %q", p)
		}
		if p := cliRecv(t, h.pongs, "client OnPong"); p != "from client" {
			t.Fatalf("client pong %q", p)
		}
		// Server ping: the client answers on its own.
		if err := sc.Ping([]byte("from server")); err != nil {
			t.Fatal(err)
		}
		if p := cliRecv(t, h.pings, "client OnPing"); p != "from server" {
			t.Fatalf("client ping %q", p)
		}
		if p := cliRecv(t, srv.pongs, "server OnPong"); p != "from server" {
			t.Fatalf("server pong %q", p)
		}
		if err := c.Ping(make([]byte, 126)); !errors.Is(err, ErrControlTooLong) {
			t.Fatalf("126-byte ping: %v", err)
		}
	})
}

func TestClientPingPongNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		h := newCliPeer(false)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+n.addr+"/ping", &DialOptions{Handler: h})
		// ws pings first; the client's automatic pong comes back as a message.
		if p := cliRecv(t, h.pings, "client OnPing"); p != "from-ws" {
			t.Fatalf("client ping %q", p)
		}
		if m := cliRecv(t, h.msgs, "node's pong report"); string(m.data) != "pong:from-ws" {
			t.Fatalf("node reported %q", m.data)
		}
		if err := c.Ping([]byte("to ws")); err != nil {
			t.Fatal(err)
		}
		if p := cliRecv(t, h.pongs, "client OnPong"); p != "to ws" {
			t.Fatalf("client pong %q", p)
		}
	})
}

// ---------------------------------------------------------------------------
// Close codes both ways.

func TestClientCloseCodes(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, nil)
		cl := cliClient(t, nil, cfg)
		t.Run("client closes", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			cliRecv(t, srv.opened, "server OnOpen")
			if err := c.Close(4001, "client bye"); err != nil {
				t.Fatal(err)
			}
			r := cliRecv(t, srv.closed, "server OnClose")
			if r.code != 4001 || r.reason != "client bye" || r.err != nil {
				t.Fatalf("server OnClose %d %q %v", r.code, r.reason, r.err)
			}
			_, _, err := c.ReadMessage(cliCtx(t))
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4001 {
				t.Fatalf("client ReadMessage after Close: %v", err)
			}
			if code, _ := c.CloseStatus(); code != 4001 || c.State() != StateClosed {
				t.Fatalf("CloseStatus %d, state %v", code, c.State())
			}
		})
		t.Run("server closes", func(t *testing.T) {
			h := newCliPeer(false)
			c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{Handler: h})
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if err := sc.Close(4002, "server bye"); err != nil {
				t.Fatal(err)
			}
			r := cliRecv(t, h.closed, "client OnClose")
			if r.code != 4002 || r.reason != "server bye" || r.err != nil {
				t.Fatalf("client OnClose %d %q %v", r.code, r.reason, r.err)
			}
			if r := cliRecv(t, srv.closed, "server OnClose"); r.code != 4002 || r.err != nil {
				t.Fatalf("server OnClose %d %q %v", r.code, r.reason, r.err)
			}
			if c.State() != StateClosed {
				t.Fatalf("state %v", c.State())
			}
		})
		t.Run("server closes, ReadMessage", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			sc.WriteText("last words")
			sc.Close(frame.StatusGoingAway, "shutting down")
			if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "last words" {
				t.Fatalf("message before the close: %q %v", p, err)
			}
			_, _, err := c.ReadMessage(cliCtx(t))
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != frame.StatusGoingAway || ce.Reason != "shutting down" {
				t.Fatalf("ReadMessage = %v", err)
			}
			cliRecv(t, srv.closed, "server OnClose")
		})
		t.Run("server drops TCP", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			sc.Abort()
			_, _, err := c.ReadMessage(cliCtx(t))
			if err == nil || CloseStatus(err) == frame.StatusNormalClosure {
				t.Fatalf("ReadMessage after the server aborted: %v", err)
			}
			cliRecv(t, srv.closed, "server OnClose")
		})
	})
}

func TestClientCloseCodesNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		cl := cliClient(t, nil, cfg)
		t.Run("node closes", func(t *testing.T) {
			id := cliNodeID(t)
			ev := n.events(id)
			c := cliDial(t, cl, "ws://"+n.addr+"/close?code=4003&reason=node-bye&id="+id, nil)
			_, _, err := c.ReadMessage(cliCtx(t))
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4003 || ce.Reason != "node-bye" {
				t.Fatalf("ReadMessage = %v", err)
			}
			if e := cliRecv(t, ev, "node close event"); e.Code != 4003 {
				t.Fatalf("node saw %+v", e)
			}
		})
		t.Run("client closes", func(t *testing.T) {
			id := cliNodeID(t)
			ev := n.events(id)
			h := newCliPeer(false)
			c := cliDial(t, cl, "ws://"+n.addr+"/echo?id="+id, &DialOptions{Handler: h})
			cliRecv(t, h.opened, "client OnOpen")
			if err := c.Close(4004, "to-node"); err != nil {
				t.Fatal(err)
			}
			if e := cliRecv(t, ev, "node close event"); e.Code != 4004 || e.Reason != "to-node" {
				t.Fatalf("node saw %+v", e)
			}
			if r := cliRecv(t, h.closed, "client OnClose"); r.code != 4004 || r.err != nil {
				t.Fatalf("client OnClose %d %q %v", r.code, r.reason, r.err)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// NetConn.

func TestClientNetConn(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(false)
		_, addr := startServer(t, srv, cfg, nil)
		cl := cliClient(t, nil, cfg)
		t.Run("stream of messages", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := NetConn(c, frame.OpBinary)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			var want []byte
			for i, n := range []int{5, 0, 70000, 1, 300} {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				want = append(want, p...)
				if err := sc.WriteBinary(p); err != nil {
					t.Fatal(err)
				}
			}
			sc.Close(frame.StatusNormalClosure, "")
			// A small buffer splits messages across reads, as io.Copy into a
			// slow writer would.
			var got bytes.Buffer
			if _, err := io.CopyBuffer(struct{ io.Writer }{&got}, struct{ io.Reader }{nc}, make([]byte, 7)); err != nil {
				t.Fatalf("copy: %v (a normal close must read as EOF)", err)
			}
			mustEqual(t, got.Bytes(), want)
			if n, err := nc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("read after EOF: %d %v", n, err)
			}
			cliRecv(t, srv.closed, "server OnClose")
		})
		t.Run("Write and addresses", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := NetConn(c, frame.OpText)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if n, err := nc.Write([]byte("one message")); n != 11 || err != nil {
				t.Fatalf("Write %d %v", n, err)
			}
			if m := cliRecv(t, srv.msgs, "server message"); m.op != frame.OpText || string(m.data) != "one message" {
				t.Fatalf("server got %v %q", m.op, m.data)
			}
			if got, want := nc.LocalAddr().String(), sc.RemoteAddr().String(); got != want {
				t.Fatalf("LocalAddr %s, server sees %s", got, want)
			}
			if got := nc.RemoteAddr().String(); got != addr {
				t.Fatalf("RemoteAddr %s, want %s", got, addr)
			}
			if err := nc.Close(); err != nil {
				t.Fatal(err)
			}
			if r := cliRecv(t, srv.closed, "server OnClose"); r.code != frame.StatusNormalClosure {
				t.Fatalf("server OnClose %d %v", r.code, r.err)
			}
		})
		t.Run("read deadline", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := NetConn(c, frame.OpBinary)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := nc.Read(make([]byte, 8))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("Read past the deadline: %v", err)
			}
			nc.SetReadDeadline(time.Time{})
			sc.WriteBinary([]byte("after"))
			buf := make([]byte, 8)
			if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "after" {
				t.Fatalf("Read after clearing the deadline: %q %v", buf[:n], err)
			}
		})
		t.Run("deadline set during a blocked Read", func(t *testing.T) {
			// net.Conn: a deadline set while a Read is blocked applies to it, so
			// another goroutine can interrupt the Read (net/http and io.Copy-based
			// proxies rely on it).
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := NetConn(c, frame.OpBinary)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			readErr := make(chan error, 1)
			go func() {
				_, err := nc.Read(make([]byte, 8))
				readErr <- err
			}()
			time.Sleep(20 * time.Millisecond) // let the Read block
			setDone := make(chan struct{})
			go func() {
				nc.SetReadDeadline(time.Now())
				close(setDone)
			}()
			select {
			case err := <-readErr:
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("interrupted Read: %v, want a timeout", err)
				}
			case <-time.After(3 * time.Second):
				t.Errorf("SetReadDeadline did not interrupt a blocked Read")
				sc.WriteBinary([]byte("unblock")) // let the Read (and the setter) finish
				<-readErr
			}
			<-setDone
		})
	})
}

// ---------------------------------------------------------------------------
// OnRequest, LocalAddr, MaskKey.

func TestClientOnRequest(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 4)
	_, addr := startServer(t, newCliPeer(true), Config{}, &upgrade.Upgrader{
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			seen <- strings.Clone(r.Header("X-Request-Id") + "|" + r.Header("User-Agent"))
		},
	})
	cl := cliClient(t, nil, Config{})
	c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{
		Header: http.Header{"User-Agent": {"weir-test"}},
		OnRequest: func(r *upgrade.ClientRequest) error {
			r.Header = http.Header{"X-Request-Id": {"42"}, "User-Agent": r.Header["User-Agent"]}
			return nil
		},
	})
	if got := cliRecv(t, seen, "handshake"); got != "42|weir-test" {
		t.Fatalf("server saw %q", got)
	}
	cliCloseRead(t, c)
	boom := errors.New("not today")
	_, _, err := cl.Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{OnRequest: func(*upgrade.ClientRequest) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the hook's", err)
	}
	select {
	case got := <-seen:
		t.Fatalf("a refused request reached the server: %q", got)
	default:
	}
}

// cliCanBind reports whether ip is a local address here (127.0.0.2 is on Linux,
// not on macOS without an alias).
func cliCanBind(ip net.IP) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func TestClientLocalAddr(t *testing.T) {
	t.Parallel()
	if !cliCanBind(net.IPv4(127, 0, 0, 2)) {
		t.Skip("127.0.0.2 is not a local address on this machine")
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	want := netip.MustParseAddr("127.0.0.2")
	t.Run("weir", func(t *testing.T) {
		t.Parallel()
		forModes(t, func(t *testing.T, cfg Config) {
			srv := newCliPeer(true)
			_, addr := startServer(t, srv, cfg, nil)
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{LocalAddr: local})
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if c.LocalAddr().Addr() != want || sc.RemoteAddr() != c.LocalAddr() {
				t.Fatalf("client local %v, server sees %v", c.LocalAddr(), sc.RemoteAddr())
			}
			if c.RemoteAddr().String() != addr {
				t.Fatalf("client remote %v, want %s", c.RemoteAddr(), addr)
			}
		})
	})
	t.Run("node ws", func(t *testing.T) {
		t.Parallel()
		n := cliNode(t, false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+n.addr+"/info", &DialOptions{LocalAddr: local})
		if info := cliReadNodeInfo(t, c); info.Remote != "127.0.0.2" && info.Remote != "::ffff:127.0.0.2" {
			t.Fatalf("node saw remote %q", info.Remote)
		}
	})
}

// TestClientMaskKey checks that client frames are masked with the hook's key: the
// raw bytes on the wire are the payload XOR the key (RFC 6455 §5.3).
func TestClientMaskKey(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	frames := make(chan []byte, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			upgrade.AcceptKey(req.Header.Get("Sec-WebSocket-Key")))
		b := make([]byte, 2+4+5)
		if _, err := io.ReadFull(br, b); err == nil {
			frames <- b
		}
		io.Copy(io.Discard, br)
	}()
	c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+ln.Addr().String()+"/", &DialOptions{
		MaskKey: func() [4]byte { return [4]byte{0xA1, 0xB2, 0xC3, 0xD4} },
	})
	if err := c.WriteText("hello"); err != nil {
		t.Fatal(err)
	}
	got := cliRecv(t, frames, "client frame")
	want := frameBytes(true, frame.OpText, 0, []byte("hello"), false)
	want[1] |= 0x80
	want = append(want[:2:2], 0xA1, 0xB2, 0xC3, 0xD4)
	for i, b := range []byte("hello") {
		want = append(want, b^[]byte{0xA1, 0xB2, 0xC3, 0xD4}[i%4])
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("wire % x, want % x", got, want)
	}
}

// TestClientCloseRightAfterDial closes a connection as soon as Dial returns, before
// its reader may have run: the close handshake must still complete and be reported
// (ReadMessage returns the *CloseError; a Handler gets OnOpen, then OnClose).
func TestClientCloseRightAfterDial(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, newCliPeer(true), cfg, nil)
		cl := cliClient(t, nil, cfg)
		for i := range 20 {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			c.Close(4005, "early")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _, err := c.ReadMessage(ctx)
			cancel()
			if CloseStatus(err) != 4005 {
				t.Fatalf("dial %d: ReadMessage after an early Close = %v (state %v)", i, err, c.State())
			}
			h := newCliPeer(false)
			c = cliDial(t, cl, "ws://"+addr+"/", &DialOptions{Handler: h})
			c.Close(4006, "early")
			cliRecv(t, h.opened, fmt.Sprintf("dial %d: OnOpen", i))
			if r := cliRecv(t, h.closed, fmt.Sprintf("dial %d: OnClose", i)); r.code != 4006 {
				t.Fatalf("dial %d: OnClose %d %q %v", i, r.code, r.reason, r.err)
			}
		}
	})
}
