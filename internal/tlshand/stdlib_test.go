package tlshand

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/internal/tlsrec"
)

var sizes = []int{0, 1, 100, 1<<14 - 1, 1 << 14, 1<<14 + 1, 1 << 20}

// handoff runs our handshake on one end of a TCP pair and crypto/tls's on
// the other; ourServer picks the sides. It returns our result, the peer's
// tls.Conn and the peer's raw conn.
func handoff(t *testing.T, ourServer bool, ours, peer *tls.Config, opts Options) (*Result, error, *tls.Conn, net.Conn, *splitConn) {
	t.Helper()
	a, b := tcpPair(t)
	sc := &splitConn{Conn: b, rng: mrand.New(mrand.NewPCG(1, 2))}
	var pc *tls.Conn
	if ourServer {
		pc = tls.Client(sc, peer)
	} else {
		pc = tls.Server(sc, peer)
	}
	errc := make(chan error, 1)
	go func() { errc <- pc.Handshake() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := Prepare(ours, opts)
	var res *Result
	var err error
	if ourServer {
		res, err = p.Server(ctx, a)
	} else {
		res, err = p.Client(ctx, a)
	}
	if perr := <-errc; perr != nil {
		t.Fatalf("peer handshake: %v", perr)
	}
	return res, err, pc, a, sc
}

func configs(t *testing.T, ourServer bool) (ours, peer *tls.Config) {
	if ourServer {
		return serverConfig(t), clientConfig(t)
	}
	return clientConfig(t), serverConfig(t)
}

// TestStdlibPeerEcho: every size class both ways, records cut at random
// points on both sides, our side as server and as client, then KeyUpdates
// (ours with update_requested, which crypto/tls answers with its own) and
// close_notify both ways. The drop variants let our AEADs go after every
// Decrypt and around every seal (tlsrec's idle drop): crypto/tls on the other
// end sees the same stream, KeyUpdates in both directions included.
func TestStdlibPeerEcho(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		ourServer, drop bool
	}{{true, false}, {false, false}, {true, true}, {false, true}} {
		ourServer := v.ourServer
		name := map[bool]string{true: "server", false: "client"}[ourServer]
		if v.drop {
			name += "-drop"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ours, peer := configs(t, ourServer)
			var tickets int
			res, err, pc, a, _ := handoff(t, ourServer, ours, peer, Options{OnSessionTicket: func([]byte) { tickets++ }})
			if err != nil {
				t.Fatalf("hand-off: %v", err)
			}
			if ourServer && res.Writer == nil {
				t.Fatal("no writer")
			}
			l := newLoop(t, a, res, 7)
			l.drop = v.drop
			rng := mrand.New(mrand.NewPCG(3, 4))
			var wg sync.WaitGroup
			defer wg.Wait()
			for _, n := range sizes {
				msg := randBytes(rng, n)
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := pc.Write(msg); err != nil {
						t.Errorf("peer write: %v", err)
					}
				}()
				got, err := l.readN(n)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("size %d: read %d bytes, err %v", n, len(got), err)
				}
				wg.Wait()
				// The echo is written while the peer reads it: a 1 MiB write
				// with nobody reading can fill both loopback buffers (seen: the
				// write blocked 28 s, and past a 15 s test timeout).
				wrote := make(chan struct{})
				go func() { defer close(wrote); l.write(got) }()
				back := make([]byte, n)
				_, err = io.ReadFull(pc, back)
				<-wrote
				if err != nil || !bytes.Equal(back, msg) {
					t.Fatalf("size %d: peer read err %v", n, err)
				}
			}
			// A crypto/tls server sends no ticket to a client that offers no
			// psk_key_exchange_modes (RFC 8446 §4.2.9), and a crypto/tls
			// client offers them only with a ClientSessionCache, which keeps it
			// in goroutine mode: tickets stays 0 here (tlsrec's tests cover
			// the callback).
			if tickets != 0 {
				t.Errorf("%d tickets", tickets)
			}
			// Our KeyUpdate asking for the peer's: crypto/tls answers it when
			// it reads it, and seals what follows under its new key.
			l.send(func(dst []byte) ([]byte, error) { return l.w.AppendKeyUpdate(dst, true) })
			l.write([]byte("ping"))
			buf := make([]byte, 4)
			if _, err := io.ReadFull(pc, buf); err != nil || string(buf) != "ping" {
				t.Fatalf("ping: %q %v", buf, err)
			}
			go pc.Write([]byte("pong"))
			if got, err := l.readN(4); err != nil || string(got) != "pong" {
				t.Fatalf("pong after peer KeyUpdate: %q %v", got, err)
			}
			// close_notify from us: the peer reads EOF; then from the peer.
			l.send(l.w.AppendCloseNotify)
			if n, err := pc.Read(buf); n != 0 || err != io.EOF {
				t.Fatalf("peer after our close_notify: %d %v", n, err)
			}
			pc.Close()
			if _, err := l.readN(1); err != io.EOF {
				t.Fatalf("after peer close_notify: %v", err)
			}
		})
	}
}

// TestStdlibPeerBadRecords: what the peer's side of the wire carries is
// corrupted; our side fails with the right alert, sends it, and the
// crypto/tls peer reads that alert.
func TestStdlibPeerBadRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(pc *tls.Conn, raw *splitConn)
		alert  string // as crypto/tls names the alert it received
	}{
		{"bad tag", func(pc *tls.Conn, raw *splitConn) {
			raw.mu.Lock()
			raw.corrupt = true
			raw.mu.Unlock()
			pc.Write([]byte("hello"))
		}, "bad record MAC"},
		{"over-long record", func(_ *tls.Conn, raw *splitConn) {
			raw.Conn.Write(append([]byte{23, 3, 3, 0x41, 0x01}, make([]byte, 100)...))
		}, "record overflow"},
		{"plaintext record", func(_ *tls.Conn, raw *splitConn) {
			raw.Conn.Write([]byte{22, 3, 3, 0, 4, 24, 0, 0, 0})
		}, "unexpected message"},
		{"change_cipher_spec", func(_ *tls.Conn, raw *splitConn) {
			raw.Conn.Write([]byte{20, 3, 3, 0, 1, 1})
		}, "unexpected message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err, pc, a, b := handoff(t, true, serverConfig(t), clientConfig(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			l := newLoop(t, a, res, 11)
			tc.inject(pc, b)
			_, err = l.readN(1)
			if _, ok := tlsrec.AlertToSend(err); !ok {
				t.Fatalf("err %v, want a local alert", err)
			}
			pc.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, perr := pc.Read(make([]byte, 1))
			if perr == nil || !strings.Contains(perr.Error(), tc.alert) {
				t.Fatalf("our err %v; peer read %v, want alert %q", err, perr, tc.alert)
			}
		})
	}
}
