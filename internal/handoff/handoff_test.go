//go:build unix

package handoff

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/sock/socktest"
	"github.com/weir-ws/weir/internal/testcert"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsloop"
)

// sockets takes fds with sock.TakeConn when take is set, and records what
// it was asked.
type sockets struct {
	take        bool
	tuned, took []net.Conn
}

func (s *sockets) Tune(nc net.Conn) { s.tuned = append(s.tuned, nc) }

func (s *sockets) Take(nc net.Conn) (int, bool) {
	s.took = append(s.took, nc)
	if !s.take {
		return -1, false
	}
	return sock.TakeConn(nc)
}

func configs(t *testing.T) (srv, cli *tls.Config) {
	t.Helper()
	cert, roots, err := testcert.New("weir.test")
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: roots, ServerName: "weir.test", MinVersion: tls.VersionTLS12}
}

// closed reports whether nc was closed here (its own use fails with
// net.ErrClosed).
func closed(nc net.Conn) bool {
	_, err := nc.Write([]byte{0})
	return errors.Is(err, net.ErrClosed)
}

// checkFD writes through fd and reads the bytes at the peer.
func checkFD(t *testing.T, fd int, peer net.Conn) {
	t.Helper()
	if _, err := syscall.Write(fd, []byte("fd")); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [2]byte
	if _, err := io.ReadFull(peer, b[:]); err != nil || string(b[:]) != "fd" {
		t.Fatalf("peer read %q, %v", b, err)
	}
}

func TestPlain(t *testing.T) {
	t.Parallel()
	for _, take := range []bool{true, false} {
		b, a := socktest.TCPPair(t) // a: the accepted end
		s := &sockets{take: take}
		h := Plain(a, s)
		if len(s.tuned) != 1 || s.tuned[0] != a || h.TLS != NoTLS || h.Record != nil {
			t.Fatalf("take %v: tuned %v, %+v", take, s.tuned, h)
		}
		if h.Remote.String() != a.RemoteAddr().String() {
			t.Errorf("take %v: remote %v, want %v", take, h.Remote, a.RemoteAddr())
		}
		if !take {
			if h.FD != -1 || h.Net != a || closed(a) {
				t.Fatalf("goroutine mode: %+v (conn closed: %v)", h, closed(a))
			}
			continue
		}
		if h.FD < 0 || h.Net != nil || !closed(a) {
			t.Fatalf("loop: %+v", h)
		}
		checkFD(t, h.FD, b)
		syscall.Close(h.FD)
	}
}

// dialTLS runs a TLS handshake with tlshand's client hand-off over a TCP
// pair; the server writes msg in one record once the handshake is done.
func dialTLS(t *testing.T, maxVersion uint16, msg string) (cc *tlshand.ClientConn, raw net.Conn, srv *tls.Conn) {
	t.Helper()
	b, a := socktest.TCPPair(t) // a: the accepted end
	scfg, ccfg := configs(t)
	scfg.MaxVersion = maxVersion
	srv = tls.Server(a, scfg)
	errc := make(chan error, 1)
	go func() {
		if err := srv.Handshake(); err != nil {
			errc <- err
			return
		}
		_, err := srv.Write([]byte(msg))
		errc <- err
	}()
	cc, err := tlshand.Prepare(ccfg, tlshand.Options{}).ClientConn(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return cc, b, srv
}

// readRecords reads from fd through rec until want's plaintext arrived
// after got.
func readRecords(t *testing.T, fd int, rec *tlsloop.Conn, got []byte, want string) {
	t.Helper()
	buf := make([]byte, tlsloop.ReadRoom)
	if rec.Fresh() {
		plain, _, err := rec.Input(buf[:rec.Kept(buf)])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, plain...)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("record layer read %q, want %q", got, want)
		}
		k := rec.Kept(buf)
		n, err := syscall.Read(fd, buf[k:])
		if err == syscall.EAGAIN {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("read: %d, %v", n, err)
		}
		plain, _, err := rec.Input(buf[:k+n])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, plain...)
	}
	if string(got) != want {
		t.Fatalf("record layer read %q, want %q", got, want)
	}
}

// TestClient: the bytes past the 101 come out in order (what the caller read
// ahead, then what crypto/tls had decrypted, then the stream where the
// connection went), none lost, none twice.
func TestClient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		version uint16
		take    bool
		want    TLS
	}{
		{"tls13 loop", tls.VersionTLS13, true, TLSLoop},
		{"tls13 untakeable", tls.VersionTLS13, false, TLSGoroutine},
		{"tls12", tls.VersionTLS12, true, TLSGoroutine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cc, raw, srv := dialTLS(t, tc.version, "101...frames")
			var b [6]byte
			if _, err := io.ReadFull(cc, b[:]); err != nil { // the 101, say
				t.Fatal(err)
			}
			s := &sockets{take: tc.take}
			h, head := Client(cc, []byte("ahead|"), s)
			if !strings.HasPrefix(string(head), "ahead|") {
				t.Fatalf("head %q", head)
			}
			const want = "ahead|framesafter"
			if h.TLS != tc.want || len(s.tuned) != 1 || s.tuned[0] != raw {
				t.Fatalf("%+v, tuned %v", h, s.tuned)
			}
			if h.Remote.String() != raw.RemoteAddr().String() {
				t.Errorf("remote %v, want %v", h.Remote, raw.RemoteAddr())
			}
			if _, err := srv.Write([]byte("after")); err != nil {
				t.Fatal(err)
			}
			if tc.want == TLSGoroutine {
				if h.FD != -1 || h.Net != net.Conn(cc) || h.Record != nil {
					t.Fatalf("goroutine mode: %+v", h)
				}
				if tc.version == tls.VersionTLS12 && len(s.took) != 0 {
					t.Error("took the fd of a connection the record layer cannot run")
				}
				got := make([]byte, len(want)-len(head))
				h.Net.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadFull(h.Net, got); err != nil || string(head)+string(got) != want {
					t.Fatalf("head %q, then the tls.Conn read %q, %v", head, got, err)
				}
				return
			}
			if h.FD < 0 || h.Net != nil || h.Record == nil || !closed(raw) {
				t.Fatalf("loop: %+v", h)
			}
			defer syscall.Close(h.FD)
			readRecords(t, h.FD, h.Record, head, want)
		})
	}
}

// TestServer: a ListenTLS connection goes to its loop with its record layer,
// stays on its tls.Conn, or is closed when its fd cannot be taken.
func TestServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		version uint16
		take    bool
	}{
		{"tls13 loop", tls.VersionTLS13, true},
		{"tls13 untakeable", tls.VersionTLS13, false},
		{"tls12", tls.VersionTLS12, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, a := socktest.TCPPair(t) // a: the accepted end
			scfg, ccfg := configs(t)
			ccfg.MaxVersion = tc.version
			cli := tls.Client(b, ccfg)
			errc := make(chan error, 1)
			go func() { errc <- cli.Handshake() }()
			res, err := tlshand.Prepare(scfg, tlshand.Options{}).Server(context.Background(), a)
			inGoroutine := errors.Is(err, tlshand.ErrGoroutineMode)
			if err != nil && !inGoroutine {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if inGoroutine != (tc.version == tls.VersionTLS12) {
				t.Fatalf("goroutine mode %v for version %x", inGoroutine, tc.version)
			}
			s := &sockets{take: tc.take}
			h, ok := Server(a, a.RemoteAddr().(*net.TCPAddr).AddrPort(), res, inGoroutine, s)
			if len(s.tuned) != 1 || s.tuned[0] != a {
				t.Fatalf("tuned %v", s.tuned)
			}
			if _, err := cli.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			switch {
			case inGoroutine:
				if !ok || h.FD != -1 || h.Net != net.Conn(res.Conn) || h.TLS != TLSGoroutine || len(s.took) != 0 {
					t.Fatalf("goroutine mode: %v %+v, took %v", ok, h, s.took)
				}
				var got [5]byte
				h.Net.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadFull(h.Net, got[:]); err != nil || string(got[:]) != "hello" {
					t.Fatalf("tls.Conn read %q, %v", got, err)
				}
			case !tc.take:
				if ok || !closed(a) {
					t.Fatalf("untakeable: ok %v, conn closed %v", ok, closed(a))
				}
			default:
				if !ok || h.FD < 0 || h.Record == nil || h.TLS != TLSLoop || !closed(a) {
					t.Fatalf("loop: %v %+v", ok, h)
				}
				if h.Fresh != (len(res.Leftover) > 0) {
					t.Errorf("Fresh %v with %d bytes left over", h.Fresh, len(res.Leftover))
				}
				defer syscall.Close(h.FD)
				readRecords(t, h.FD, h.Record, nil, "hello")
			}
		})
	}
}
