//go:build !race

package engine

import (
	"crypto/tls"
	"strconv"
	"testing"
)

// newCBPairTLS is newCBPair over wss: a ListenTLS server and a client, both
// on the loops with the record layer.
func newCBPairTLS(tb testing.TB, size int) *cbPair {
	tb.Helper()
	cfg := Config{PingInterval: -1}
	s, err := NewServer(cbEcho{}, &cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.ListenTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cliTestCert(tb).cert}}); err != nil {
		tb.Fatal(err)
	}
	cl := cliClient(tb, nil, cfg)
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i)
	}
	h := &cbHandler{want: msg, got: make(chan struct{}, 1)}
	c := cliDial(tb, cl, "wss://"+s.Addr().String()+"/", &DialOptions{Handler: h, TLSConfig: clientTLS(tb)})
	if !onLoops(c) {
		tb.Fatal("client not on the loops")
	}
	p := &cbPair{c: c, h: h, msg: msg}
	for range 100 {
		p.roundTrip(tb)
	}
	return p
}

// BenchmarkClientEchoTLS: wss round trips, weir on both ends, both on the
// loops: seal and open on each side.
func BenchmarkClientEchoTLS(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 16 << 10} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			p := newCBPairTLS(b, size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for range b.N {
				p.roundTrip(b)
			}
			b.StopTimer()
			p.check(b)
		})
	}
}

// TestClientEchoTLSAllocs: a steady-state wss round trip on the loops
// allocates nothing on either end (records sealed into pooled buffers,
// opened in place).
func TestClientEchoTLSAllocs(t *testing.T) {
	for _, size := range []int{0, 64, 1 << 10, 16 << 10} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			p := newCBPairTLS(t, size)
			if n := testing.AllocsPerRun(500, func() { p.roundTrip(t) }); n != 0 {
				t.Errorf("%v allocations per wss echo round trip, want 0", n)
			}
			p.check(t)
		})
	}
}
