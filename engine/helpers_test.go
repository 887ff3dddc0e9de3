package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/sock/socktest"
	"github.com/weir-ws/weir/upgrade"
)

// modes are the engine configurations every behaviour test runs under.
var modes = []struct {
	name string
	cfg  Config
}{
	{"pool", Config{}},
	{"inline", Config{Dispatch: DispatchInline}},
	{"goroutine", Config{GoroutinePerConn: true}},
}

// forModes runs f once per mode, in parallel subtests.
func forModes(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m.cfg)
		})
	}
}

// forLoopModes runs f under the modes that run on the event loops.
func forLoopModes(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Helper()
	for _, m := range modes {
		if m.cfg.GoroutinePerConn {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m.cfg)
		})
	}
}

// startServer starts a server on 127.0.0.1:0 and closes it when the test ends.
func startServer(t testing.TB, h Handler, cfg Config, u *upgrade.Upgrader) (*Server, string) {
	t.Helper()
	s, err := NewServer(h, &cfg, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, s.Addr().String()
}

// echoHandler echoes every message and records closes.
type echoHandler struct {
	NopHandler
	mu     sync.Mutex
	closes []closeRecord
	closed chan closeRecord
}

type closeRecord struct {
	code   frame.StatusCode
	reason string
	err    error
}

func newEcho() *echoHandler { return &echoHandler{closed: make(chan closeRecord, 16)} }

func (h *echoHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

func (h *echoHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}

// waitClose returns the next OnClose record.
func (h *echoHandler) waitClose(t testing.TB) closeRecord {
	t.Helper()
	select {
	case r := <-h.closed:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose within 10s")
	}
	return closeRecord{}
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// rawClient is a hand-written WebSocket client over a real TCP socket, for tests
// that need to send exact bytes.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dialRaw connects and completes a handshake with extra request header lines.
func dialRaw(t testing.TB, addr string, extra ...string) *rawClient {
	t.Helper()
	rc, resp := dialRawResp(t, addr, extra...)
	if resp.StatusCode != 101 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("handshake status %d: %s", resp.StatusCode, body)
	}
	return rc
}

func dialRawResp(t testing.TB, addr string, extra ...string) (*rawClient, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return handshakeRaw(t, nc, addr, extra...)
}

// handshakeRaw sends the opening handshake on nc (TCP, or TLS: tlsloop_test.go)
// and reads the response.
func handshakeRaw(t testing.TB, nc net.Conn, addr string, extra ...string) (*rawClient, *http.Response) {
	t.Helper()
	fields := append([]string{"Host: " + addr, "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: " + testKey, "Sec-WebSocket-Version: 13"}, extra...)
	return sendRequest(t, nc, "GET /ws HTTP/1.1", fields...)
}

// sendRequest writes request line and fields as they are on nc and reads the
// answer.
func sendRequest(t testing.TB, nc net.Conn, line string, fields ...string) (*rawClient, *http.Response) {
	t.Helper()
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	req := line + "\r\n"
	for _, f := range fields {
		req += f + "\r\n"
	}
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &rawClient{t: t, nc: nc, br: br}, resp
}

// frameBytes encodes one client frame (masked unless unmasked is set).
func frameBytes(fin bool, op frame.Opcode, rsv uint8, p []byte, masked bool) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(p)), Masked: masked, Mask: [4]byte{1, 2, 3, 4}}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	if masked {
		frame.Mask(h.Mask, 0, b[start:])
	}
	return b
}

func (rc *rawClient) write(b []byte) {
	rc.t.Helper()
	if _, err := rc.nc.Write(b); err != nil {
		rc.t.Fatal(err)
	}
}

func (rc *rawClient) send(fin bool, op frame.Opcode, p []byte) {
	rc.t.Helper()
	rc.write(frameBytes(fin, op, 0, p, true))
}

// readFrame reads one server frame.
func (rc *rawClient) readFrame() (frame.Header, []byte, error) {
	var hb [frame.MaxHeaderSize]byte
	if _, err := io.ReadFull(rc.br, hb[:2]); err != nil {
		return frame.Header{}, nil, err
	}
	n := 2
	for {
		h, size, err := frame.ParseHeader(hb[:n])
		if err == frame.ErrShortHeader {
			if _, err := io.ReadFull(rc.br, hb[n:size]); err != nil {
				return frame.Header{}, nil, err
			}
			n = size
			continue
		}
		if err != nil {
			return h, nil, err
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(rc.br, p); err != nil {
			return h, nil, err
		}
		return h, p, nil
	}
}

// readMessage reads frames until a whole data message, answering nothing.
func (rc *rawClient) readMessage() (frame.Opcode, []byte) {
	rc.t.Helper()
	var op frame.Opcode
	var msg []byte
	for {
		h, p, err := rc.readFrame()
		if err != nil {
			rc.t.Fatalf("read: %v", err)
		}
		if h.Opcode.IsControl() {
			if h.Opcode == frame.OpClose {
				code, reason, _ := frame.ParseClose(p)
				rc.t.Fatalf("unexpected close %d %q", code, reason)
			}
			continue
		}
		if h.Opcode != frame.OpContinuation {
			op = h.Opcode
		}
		msg = append(msg, p...)
		if h.Fin {
			return op, msg
		}
	}
}

// expectClose reads until a close frame and checks its code; then it expects EOF.
func (rc *rawClient) expectClose(want frame.StatusCode) string {
	rc.t.Helper()
	for {
		h, p, err := rc.readFrame()
		if err != nil {
			rc.t.Fatalf("waiting for close %d: %v", want, err)
		}
		if h.Opcode != frame.OpClose {
			continue
		}
		if h.Masked {
			rc.t.Fatalf("server close frame is masked")
		}
		code, reason, err := frame.ParseClose(p)
		if err != nil {
			rc.t.Fatalf("bad close payload %x: %v", p, err)
		}
		if code != want {
			rc.t.Fatalf("close code %d %q, want %d", code, reason, want)
		}
		return string(reason)
	}
}

// expectEOF checks that the server closes (or half-closes) the TCP connection, then
// closes the client's side as a well-behaved peer does.
func (rc *rawClient) expectEOF() {
	rc.t.Helper()
	defer rc.nc.Close()
	rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := rc.readFrame()
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			rc.t.Fatal("server did not close the TCP connection")
		}
		return
	}
}

func mustEqual(t testing.TB, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		j := len(got)
		for j > i && j <= len(want) && got[j-1] == want[j-1] {
			j--
		}
		t.Fatalf("payload mismatch: got %d bytes, want %d; first difference at %d, last at %d: got %q..., want %q...",
			len(got), len(want), i, j-1, trunc(got[min(i, len(got)):]), trunc(want[min(i, len(want)):]))
	}
}

func trunc(b []byte) string {
	if len(b) > 32 {
		return string(b[:32])
	}
	return string(b)
}

var _ = fmt.Sprintf
var _ = strings.Repeat

// startPiped starts cmd with pipes to its stdin and from its stdout (a helper
// process driven by the test), failing the test if it cannot.
func startPiped(t testing.TB, cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser) {
	t.Helper()
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
	return stdin, stdout
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	return socktest.TCPPair(t)
}
