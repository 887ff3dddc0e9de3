package interop

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// TestTLSOpenSSL drives weir's ListenTLS with `openssl s_client` to see the
// record layer on the loops from a peer that is not crypto/tls: KeyUpdate that
// the peer starts, with and without update_requested (s_client's interactive
// "K" and "k"; RFC 8446 §4.6.3: weir must answer the first with a KeyUpdate of
// its own, not the second), and close_notify both ways (RFC 8446 §6.1):
// s_client's "Q" sends one, which weir takes as the end of the stream; weir
// sends one after its closing handshake. s_client logs every TLS message it
// sends and receives (-msg -msgfile), which is what the test counts.
func TestTLSOpenSSL(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		if inCI {
			t.Fatalf("openssl: %v", err)
		}
		t.Skipf("openssl: %v (apt-get install openssl)", err)
	}
	c := newTestCert(t)
	h := &sslEcho{closed: make(chan sslClose, 4)}
	srv, err := engine.NewServer(h, &engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenTLS("127.0.0.1:0", c.serverConfig()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	addr := srv.Addr().String()

	// The subtests run one after the other (each a few hundred ms), so that
	// each OnClose is its connection's.
	t.Run("keyupdate and close_notify from s_client", func(t *testing.T) {
		s := startSClient(t, addr, c.certFile)
		s.upgrade(t)
		s.echo(t, "one")
		s.command(t, "K") // KeyUpdate, update_requested: weir answers with one
		s.echo(t, "two")
		if got := s.msgCount(">>> TLS 1.3, Handshake [length 0005], KeyUpdate"); got != 1 {
			t.Errorf("s_client sent %d KeyUpdates, want 1", got)
		}
		if got := s.msgCount("<<< TLS 1.3, Handshake [length 0005], KeyUpdate"); got != 1 {
			t.Errorf("weir sent %d KeyUpdates after update_requested, want 1\n%s", got, s.msgs())
		}
		s.command(t, "k") // KeyUpdate, update_not_requested: weir only rekeys its reading
		s.echo(t, "three")
		s.echo(t, "four")
		if got := s.msgCount("<<< TLS 1.3, Handshake [length 0005], KeyUpdate"); got != 1 {
			t.Errorf("weir sent %d KeyUpdates in all, want still 1 (update_not_requested needs no answer)", got)
		}
		s.write(t, []byte("Q\n")) // s_client sends close_notify and exits
		s.wait(t)
		if got := s.msgCount(">>> TLS 1.3, Alert [length 0002], warning close_notify"); got != 1 {
			t.Errorf("s_client sent %d close_notify alerts, want 1\n%s", got, s.msgs())
		}
		h.expectClose(t, frame.StatusAbnormalClosure)
	})

	t.Run("close_notify from weir", func(t *testing.T) {
		s := startSClient(t, addr, c.certFile)
		s.upgrade(t)
		s.echo(t, "hello")
		s.write(t, maskedFrame(0x81, []byte("@@bye"))) // weir closes with 1000 "bye"
		s.waitOut(t, []byte{0x88, 5, 0x03, 0xe8, 'b', 'y', 'e'})
		s.write(t, maskedFrame(0x88, []byte{0x03, 0xe8})) // the closing handshake's answer
		s.wait(t)                                         // weir closed the socket: s_client sees the end
		if got := s.msgCount("<<< TLS 1.3, Alert [length 0002], warning close_notify"); got != 1 {
			t.Errorf("weir sent %d close_notify alerts, want 1\n%s", got, s.msgs())
		}
		h.expectClose(t, frame.StatusNormalClosure)
	})

	// Both connections ran on the loops.
	if m := srv.TLSMetrics(); m.Loop != 2 || m.Goroutine != 0 || m.RecordErrors != 0 {
		t.Errorf("TLS metrics %+v, want 2 connections on the loops, none in goroutine mode, no record error", m)
	}
}

// sslEcho echoes messages; "@@bye" makes it close with 1000 "bye".
type sslEcho struct {
	engine.NopHandler
	closed chan sslClose
}

type sslClose struct {
	code frame.StatusCode
	err  error
}

func (h *sslEcho) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	if string(p) == "@@bye" {
		c.Close(frame.StatusNormalClosure, "bye")
		return
	}
	c.WriteMessage(op, p)
}

func (h *sslEcho) OnClose(c *engine.Conn, code frame.StatusCode, _ string, err error) {
	h.closed <- sslClose{code, err}
}

// expectClose waits for the connection's OnClose and checks its code.
func (h *sslEcho) expectClose(t *testing.T, code frame.StatusCode) {
	t.Helper()
	select {
	case cl := <-h.closed:
		if cl.code != code {
			t.Errorf("OnClose with %d (%v), want %d", cl.code, cl.err, code)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("no OnClose within 15s")
	}
}

// sClient is one `openssl s_client` process (TLS 1.3, AES-128-GCM, the
// certificate verified against the test's CA), fed through stdin.
type sClient struct {
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	out, errOut lockedBuffer
	msgFile     string
	done        chan struct{}
	exitErr     error
}

func startSClient(t *testing.T, addr, caFile string) *sClient {
	t.Helper()
	s := &sClient{msgFile: filepath.Join(t.TempDir(), "msg.txt"), done: make(chan struct{})}
	s.cmd = exec.Command("openssl", "s_client", "-connect", addr, "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
		"-CAfile", caFile, "-verify_return_error", "-no_ign_eof", "-msg", "-msgfile", s.msgFile)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.errOut
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exitErr = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.stdin.Close()
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

func (s *sClient) write(t *testing.T, p []byte) {
	t.Helper()
	if _, err := s.stdin.Write(p); err != nil {
		t.Fatalf("s_client stdin: %v\n%s", err, s.errOut.String())
	}
}

// waitOut waits until s_client has printed want (what weir sent, decrypted).
func (s *sClient) waitOut(t *testing.T, want []byte) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !bytes.Contains(s.out.Bytes(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("s_client did not receive %q within 15s\nstdout tail: %q\nstderr: %s", want, tail(s.out.Bytes()), s.errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// upgrade sends the WebSocket handshake and waits for the 101.
func (s *sClient) upgrade(t *testing.T) {
	t.Helper()
	s.write(t, []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	s.waitOut(t, []byte("HTTP/1.1 101 "))
}

// echo sends a masked text message and waits for weir's echo (server frames
// are unmasked: 0x81, length, the text).
func (s *sClient) echo(t *testing.T, text string) {
	t.Helper()
	s.write(t, maskedFrame(0x81, []byte(text)))
	s.waitOut(t, append([]byte{0x81, byte(len(text))}, text...))
}

// command gives s_client an interactive command letter ("K", "k"), alone in
// its read, and waits until it says it carried it out (KEYUPDATE on stderr),
// so that the next write is not read with it (a command is only seen at the
// start of a read).
func (s *sClient) command(t *testing.T, letter string) {
	t.Helper()
	n := bytes.Count(s.errOut.Bytes(), []byte("KEYUPDATE"))
	s.write(t, []byte(letter+"\n"))
	deadline := time.Now().Add(15 * time.Second)
	for bytes.Count(s.errOut.Bytes(), []byte("KEYUPDATE")) == n {
		if time.Now().After(deadline) {
			t.Fatalf("s_client did not do %q within 15s\nstderr: %s", letter, s.errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for s_client to exit.
func (s *sClient) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("s_client still running 15s after the end\nstderr: %s", s.errOut.String())
	}
}

// msgs is s_client's message log (-msgfile).
func (s *sClient) msgs() string {
	b, _ := os.ReadFile(s.msgFile)
	return string(b)
}

func (s *sClient) msgCount(line string) int { return bytes.Count([]byte(s.msgs()), []byte(line)) }

// maskedFrame is a client frame (FIN set, opcode in first) of a payload under
// 126 bytes, masked with a fixed key.
func maskedFrame(first byte, p []byte) []byte {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	f := append([]byte{first, 0x80 | byte(len(p))}, key[:]...)
	for i, b := range p {
		f = append(f, b^key[i%4])
	}
	return f
}

func tail(b []byte) []byte {
	if len(b) > 300 {
		return b[len(b)-300:]
	}
	return b
}

// lockedBuffer is a bytes.Buffer written by a child's output copier and read
// by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

func (l *lockedBuffer) String() string { return string(l.Bytes()) }
