package tlshand

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// clientPeer runs a crypto/tls server on one end of a TCP pair and our
// ClientConn on the other.
func clientPeer(t *testing.T, ours, peer *tls.Config) (*ClientConn, *tls.Conn) {
	t.Helper()
	a, b := tcpPair(t)
	a.SetDeadline(time.Now().Add(20 * time.Second)) // a lost byte fails, not hangs
	b.SetDeadline(time.Now().Add(20 * time.Second))
	pc := tls.Server(&splitConn{Conn: b, rng: mrand.New(mrand.NewPCG(3, 4))}, peer)
	errc := make(chan error, 1)
	go func() { errc <- pc.Handshake() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cc, err := Prepare(ours, Options{}).ClientConn(ctx, a)
	if perr := <-errc; perr != nil || err != nil {
		t.Fatalf("handshake: ours %v peer %v", err, perr)
	}
	return cc, pc
}

// TestClientHandOff: the client speaks through crypto/tls first (a request,
// a response read in part), then hands off. Nothing the server sent is lost
// or repeated: what crypto/tls had decrypted comes back as Plain, the rest
// from the records, whether the server's next bytes were in the same record
// as the response, in records read ahead, or sent after the hand-off. The
// server's tickets reach the ClientSessionCache (the second connection
// resumes), and both directions go on under the record layer.
func TestClientHandOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		split bool // response and the next message in separate writes
		next  int  // size of what the server sends right after the response
	}{
		{"same record", false, 3000},
		{"separate records", true, 3000},
		{"big message after", true, 1 << 20},
		{"nothing after", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := clientConfig(t)
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			srv := serverConfig(t)
			for round := range 2 {
				cc, pc := clientPeer(t, cfg, srv)
				if got := cc.ConnectionState().DidResume; got != (round == 1) {
					t.Fatalf("round %d: DidResume %v", round, got)
				}
				next := randBytes(mrand.New(mrand.NewPCG(uint64(tc.next), 1)), tc.next)
				resp := []byte("HTTP/1.1 101 Switching Protocols\r\n\r\n")
				go func() {
					req := make([]byte, 7)
					if _, err := io.ReadFull(pc, req); err != nil {
						return
					}
					if tc.split {
						pc.Write(resp)
						pc.Write(next)
					} else {
						pc.Write(append(append([]byte(nil), resp...), next...))
					}
				}()
				if _, err := cc.Write([]byte("request")); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, 10) // read less than the response
				if _, err := io.ReadFull(cc, got); err != nil {
					t.Fatal(err)
				}
				res, err := cc.HandOff()
				if err != nil {
					t.Fatalf("hand-off: %v", err)
				}
				got = append(got, res.Plain...)
				l := newLoop(t, cc.Raw(), res, 7)
				want := append(append([]byte(nil), resp...), next...)
				if len(got) < len(want) {
					rest, err := l.readN(len(want) - len(got))
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, rest...)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("stream differs: %d bytes, want %d", len(got), len(want))
				}
				// Both ways on: the server's crypto/tls reads our records.
				l.write([]byte("after"))
				back := make([]byte, 5)
				if _, err := io.ReadFull(pc, back); err != nil || string(back) != "after" {
					t.Fatalf("server read %q %v", back, err)
				}
				pc.Write([]byte("more"))
				if p, err := l.readN(4); err != nil || string(p) != "more" {
					t.Fatalf("client read %q %v", p, err)
				}
			}
		})
	}
}

// TestClientHandOffTLS12: TLS 1.2 keeps the tls.Conn, which still works,
// with Plain first.
func TestClientHandOffTLS12(t *testing.T) {
	t.Parallel()
	{
		cfg := clientConfig(t)
		cfg.MaxVersion = tls.VersionTLS12
		cc, pc := clientPeer(t, cfg, serverConfig(t))
		go pc.Write([]byte("hello"))
		res, err := cc.HandOff()
		if !errors.Is(err, ErrGoroutineMode) || res.Reader != nil {
			t.Fatalf("hand-off %v", err)
		}
		got := make([]byte, 5)
		if _, err := io.ReadFull(io.MultiReader(bytes.NewReader(res.Plain), cc), got); err != nil || string(got) != "hello" {
			t.Fatalf("read %q %v", got, err)
		}
	}
}

// TestClientHandOffKeyUpdate: a server (our record layer) asks for a
// KeyUpdate before the response; crypto/tls answers it, so the hand-off
// falls back, and the tls.Conn still works both ways.
func TestClientHandOffKeyUpdate(t *testing.T) {
	t.Parallel()
	a, b := tcpPair(t)
	srvc := make(chan *Result, 1)
	go func() {
		res, err := Prepare(serverConfig(t), Options{}).Server(context.Background(), b)
		if err != nil {
			t.Error(err)
		}
		srvc <- res
	}()
	cc, err := Prepare(clientConfig(t), Options{}).ClientConn(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	res := <-srvc
	if res == nil || res.Reader == nil {
		t.Fatal("server not in loop mode")
	}
	l := newLoop(t, b, res, 11)
	l.send(func(dst []byte) ([]byte, error) { return l.w.AppendKeyUpdate(dst, true) })
	l.write([]byte("response"))
	got := make([]byte, 8)
	if _, err := io.ReadFull(cc, got); err != nil || string(got) != "response" {
		t.Fatalf("read %q %v", got, err)
	}
	hres, err := cc.HandOff()
	if !errors.Is(err, ErrGoroutineMode) || !errors.Is(err, errKeyUpdated) || hres.Reader != nil {
		t.Fatalf("hand-off %v", err)
	}
	if _, err := cc.Write([]byte("still")); err != nil {
		t.Fatal(err)
	}
	p, err := l.readN(5)
	if err != nil || string(p) != "still" || l.upd != 0 {
		t.Fatalf("server read %q %v", p, err)
	}
}
