package tlshand

import (
	"context"
	"crypto/tls"
	mrand "math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// TestServerLateLive: which handshakes leave a LateConn to hand off, and
// that its release is heard once, at Close.
func TestServerLateLive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		max   uint16
		alpn  []string
		live  bool
		proto string
	}{
		{"TLS 1.3", 0, nil, true, ""},
		{"TLS 1.3, http/1.1", 0, []string{"http/1.1"}, true, "http/1.1"},
		{"TLS 1.3, h2", 0, []string{"h2"}, false, "h2"},
		{"TLS 1.2", tls.VersionTLS12, nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := tcpPair(t)
			scfg := serverConfig(t)
			scfg.NextProtos = []string{"h2", "http/1.1"}
			p := Prepare(scfg, Options{})
			ccfg := clientConfig(t)
			ccfg.MaxVersion, ccfg.NextProtos = tc.max, tc.alpn
			done := make(chan error, 1)
			go func() {
				cc := tls.Client(b, ccfg)
				cc.SetDeadline(time.Now().Add(10 * time.Second))
				done <- cc.Handshake()
			}()
			var released atomic.Int32
			a.SetDeadline(time.Now().Add(10 * time.Second))
			sc, lc, err := p.ServerLate(context.Background(), a, func() { released.Add(1) })
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if sc.NetConn() != lc || lc.Raw() != a {
				t.Fatal("the tls.Conn is not over the LateConn over the socket")
			}
			if lc.Live() != tc.live || sc.ConnectionState().NegotiatedProtocol != tc.proto {
				t.Fatalf("live %v, ALPN %q", lc.Live(), sc.ConnectionState().NegotiatedProtocol)
			}
			sc.Close()
			sc.Close()
			want := int32(0)
			if tc.live {
				want = 1
			}
			if got := released.Load(); got != want {
				t.Fatalf("released %d times, want %d", got, want)
			}
			if _, err := lc.HandOff(sc); err == nil {
				t.Fatal("a closed connection was handed off")
			}
		})
	}
}

// FuzzLateCount: the send side's record count is the same whatever the
// chunks crypto/tls writes in, and nothing panics on any bytes.
func FuzzLateCount(f *testing.F) {
	f.Add([]byte{23, 3, 3, 0, 2, 9, 9, 23, 3, 3, 0, 0}, uint64(1))
	f.Add([]byte{22, 3, 3, 0, 1, 0}, uint64(2))
	f.Add([]byte{23, 3, 3, 0xff, 0xff, 1}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		whole := &LateConn{}
		whole.released.Store(true)
		whole.count(data)
		cut := &LateConn{}
		cut.released.Store(true)
		rng := mrand.New(mrand.NewPCG(seed, 0))
		for rest := data; len(rest) > 0; {
			k := 1 + rng.IntN(len(rest))
			cut.count(rest[:k])
			rest = rest[k:]
		}
		if whole.wseq != cut.wseq || whole.wdone != cut.wdone || (!whole.wdone && (whole.wnh != cut.wnh || whole.wleft != cut.wleft)) {
			t.Fatalf("whole %d %v %d %d, cut %d %v %d %d", whole.wseq, whole.wdone, whole.wnh, whole.wleft,
				cut.wseq, cut.wdone, cut.wnh, cut.wleft)
		}
	})
}
