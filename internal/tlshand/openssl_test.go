package tlshand

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/internal/tlsrec"
)

// safeBuf collects a child's output.
type safeBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sClient runs openssl s_client against a listener served by our Prepared
// server and returns our hand-off, the s_client's stdin and its stdout.
func sClient(t *testing.T, suite string) (*Result, error, net.Conn, io.WriteCloser, *safeBuf) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(bin, "s_client", "-connect", ln.Addr().String(), "-tls1_3", "-ciphersuites", suite, "-servername", "weir.test")
	stdin, _ := cmd.StdinPipe()
	out := &safeBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	res, err := Prepare(serverConfig(t), Options{}).Server(t.Context(), c)
	return res, err, c, stdin, out
}

// TestOpenSSLKeyUpdate: an independent peer initiates KeyUpdates (s_client's
// "k": not requested, "K": requested); our reader follows them, answers the
// request, and s_client reads what we seal after our answer.
func TestOpenSSLKeyUpdate(t *testing.T) {
	t.Parallel()
	res, err, c, stdin, out := sClient(t, "TLS_AES_256_GCM_SHA384")
	if err != nil {
		t.Fatalf("hand-off: %v (%s)", err, out.String())
	}
	l := newLoop(t, c, res, 3)
	for _, step := range []struct{ send, want string }{
		{"abc\n", "abc\n"}, {"k\n", ""}, {"def\n", "def\n"}, {"K\n", ""}, {"ghi\n", "ghi\n"},
	} {
		before := strings.Count(out.String(), "KEYUPDATE")
		io.WriteString(stdin, step.send)
		if step.want == "" {
			// s_client takes a command only as a whole stdin read: wait until
			// it has acted on this one before the next line.
			waitFor(t, out, "KEYUPDATE", before+1)
			continue
		}
		got, err := l.readN(len(step.want))
		if err != nil || string(got) != step.want {
			t.Fatalf("read %q err %v (s_client: %s)", got, err, out.String())
		}
	}
	if l.upd != 1 {
		t.Fatalf("%d KeyUpdate requests seen, want 1", l.upd)
	}
	l.write([]byte("from-weir\n"))
	waitFor(t, out, "from-weir", 1)
}

// waitFor polls the child's output until it holds n copies of s.
func waitFor(t *testing.T, out *safeBuf, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(out.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("s_client output never had %d x %q: %s", n, s, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenSSLChaCha: ChaCha20-Poly1305 negotiated -> goroutine mode with
// ErrUnsupportedSuite, and the tls.Conn still carries data.
func TestOpenSSLChaCha(t *testing.T) {
	t.Parallel()
	res, err, _, stdin, _ := sClient(t, "TLS_CHACHA20_POLY1305_SHA256")
	if !errors.Is(err, ErrGoroutineMode) || !errors.Is(err, tlsrec.ErrUnsupportedSuite) || res == nil {
		t.Fatalf("err %v", err)
	}
	io.WriteString(stdin, "xyz\n")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(res.Conn, buf); err != nil || string(buf) != "xyz\n" {
		t.Fatalf("tls.Conn read %q %v", buf, err)
	}
}
