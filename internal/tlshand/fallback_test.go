package tlshand

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/weir-ws/weir/internal/tlsrec"
)

// lockedBuf is a user's KeyLogWriter.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestResumption: a user-supplied server config, prepared once; the second
// handshake of a crypto/tls client with a session cache resumes, in loop
// mode, and the user's own KeyLogWriter still gets every line.
func TestResumption(t *testing.T) {
	t.Parallel()
	user := serverConfig(t)
	klog := &lockedBuf{}
	user.KeyLogWriter = klog
	p := Prepare(user, Options{})
	cc := clientConfig(t)
	cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	for i := 0; i < 2; i++ {
		a, b := tcpPair(t)
		pc := tls.Client(b, cc)
		errc := make(chan error, 1)
		go func() { errc <- pc.Handshake() }()
		res, err := p.Server(t.Context(), a)
		if perr := <-errc; perr != nil || err != nil {
			t.Fatalf("handshake %d: ours %v peer %v", i, err, perr)
		}
		if res.State.DidResume != (i == 1) || pc.ConnectionState().DidResume != (i == 1) {
			t.Fatalf("handshake %d: DidResume %v", i, res.State.DidResume)
		}
		// The client takes its ticket when it reads; give it something.
		l := newLoop(t, a, res, 5)
		l.write([]byte("hi"))
		buf := make([]byte, 2)
		if _, err := io.ReadFull(pc, buf); err != nil {
			t.Fatal(err)
		}
	}
	klog.mu.Lock()
	defer klog.mu.Unlock()
	if n := strings.Count(klog.b.String(), "SERVER_TRAFFIC_SECRET_0 "); n != 2 {
		t.Fatalf("user key log has %d server traffic secrets, want 2", n)
	}
}

// TestGoroutineMode: TLS 1.2 and a client with a session cache stay on the
// tls.Conn, which still works both ways.
func TestGoroutineMode(t *testing.T) {
	t.Parallel()
	tls12 := clientConfig(t)
	tls12.MaxVersion = tls.VersionTLS12
	cached := clientConfig(t)
	cached.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	tests := []struct {
		name       string
		ourServer  bool
		ours, peer *tls.Config
	}{
		{"server TLS 1.2", true, serverConfig(t), tls12},
		{"client TLS 1.2", false, tls12, serverConfig(t)},
		{"client with session cache", false, cached, serverConfig(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err, pc, _, _ := handoff(t, tc.ourServer, tc.ours, tc.peer, Options{})
			if !errors.Is(err, ErrGoroutineMode) || res == nil || res.Conn == nil || res.Reader != nil {
				t.Fatalf("err %v res %+v", err, res)
			}
			msg := bytes.Repeat([]byte("x"), 70000)
			go pc.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(res.Conn, got); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("read on tls.Conn: %v", err)
			}
			go res.Conn.Write(msg)
			if _, err := io.ReadFull(pc, got); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("peer read: %v", err)
			}
		})
	}
}

// TestChaChaGoroutineMode: a client that prefers ChaCha20-Poly1305 gets it
// from a crypto/tls server; the record layer refuses the suite.
func TestChaChaGoroutineMode(t *testing.T) {
	t.Parallel()
	if _, err := tlsrec.NewWriter(tlsrec.Keys{Suite: tls.TLS_CHACHA20_POLY1305_SHA256, Secret: make([]byte, 32)}); !errors.Is(err, tlsrec.ErrUnsupportedSuite) {
		t.Fatal(err)
	}
}

// TestKeyLogDuplicateRandom: a second registration of a client random is
// refused, and an entry that gets a label twice yields no secrets.
func TestKeyLogDuplicateRandom(t *testing.T) {
	t.Parallel()
	l := &keyLog{m: make(map[[32]byte]*entry)}
	var r [32]byte
	r[0] = 1
	e := l.register(r)
	if e == nil || l.register(r) != nil {
		t.Fatal("duplicate registration accepted")
	}
	hexr := "01" + strings.Repeat("00", 31)
	l.Write([]byte("CLIENT_TRAFFIC_SECRET_0 " + hexr + " aa\n"))
	l.Write([]byte("SERVER_TRAFFIC_SECRET_0 " + hexr + " bb\n"))
	l.Write([]byte("SERVER_TRAFFIC_SECRET_0 " + hexr + " cc\n"))
	if c, s := l.take(r, e); c != nil || s != nil {
		t.Fatalf("poisoned entry yielded %x %x", c, s)
	}
	e = l.register(r)
	l.Write([]byte("CLIENT_TRAFFIC_SECRET_0 " + hexr + " aa\n"))
	l.Write([]byte("SERVER_TRAFFIC_SECRET_0 " + hexr + " bb\n"))
	if c, s := l.take(r, e); !bytes.Equal(c, []byte{0xaa}) || !bytes.Equal(s, []byte{0xbb}) {
		t.Fatalf("got %x %x", c, s)
	}
}

// TestGoroutineOptionNoKeyLogDemux: with Options.Goroutine nothing is handed
// off, so the prepared clone keeps the user's KeyLogWriter (none: none)
// instead of the demultiplexer, which would parse every handshake's secrets
// and drop them; a user's writer still gets every line.
func TestGoroutineOptionNoKeyLogDemux(t *testing.T) {
	t.Parallel()
	if w := Prepare(serverConfig(t), Options{Goroutine: true}).Config().KeyLogWriter; w != nil {
		t.Fatalf("KeyLogWriter %T with no user writer, want none", w)
	}
	user := serverConfig(t)
	klog := &lockedBuf{}
	user.KeyLogWriter = klog
	p := Prepare(user, Options{Goroutine: true})
	if w := p.Config().KeyLogWriter; w != klog {
		t.Fatalf("KeyLogWriter %T, want the user's", w)
	}
	a, b := tcpPair(t)
	pc := tls.Client(b, clientConfig(t))
	errc := make(chan error, 1)
	go func() { errc <- pc.Handshake() }()
	res, err := p.Server(t.Context(), a)
	if perr := <-errc; perr != nil || !errors.Is(err, ErrGoroutineMode) || res.Conn == nil {
		t.Fatalf("handshake: ours %v peer %v", err, perr)
	}
	klog.mu.Lock()
	defer klog.mu.Unlock()
	if !strings.Contains(klog.b.String(), "SERVER_TRAFFIC_SECRET_0 ") {
		t.Fatal("the user's key log got no traffic secret")
	}
}
