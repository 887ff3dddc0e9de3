package interop

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestTLSMatrix runs every scenario of the matrix with every peer over wss,
// both ways: weir's Server.ListenTLS against the client peers (the
// "weir-server" columns) and weir's Client.Dial against the peers' TLS servers
// (the "weir-client" columns), engine defaults (the worker pool): the cells of
// TestMatrix's "plain" columns, judged the same way (limits_test.go), except
// that the echo rows use wssEchoSizes. Every connection must have run on the
// loops (TLS 1.3, AES-GCM: the record layer of internal/tlsrec), none in
// goroutine mode. The cells are not recorded for docs/conformance.md.
func TestTLSMatrix(t *testing.T) {
	t.Parallel()
	c := newTestCert(t)
	for _, p := range wssPeers(c) {
		for _, r := range p.roles() {
			t.Run(roleSlug(r)+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				runTLSColumn(t, c, p, r)
			})
		}
	}
}

// runTLSColumn runs the column of p in role r over wss, every scenario on a
// fresh connection against one peer, and checks the TLS counters.
func runTLSColumn(t *testing.T, c *testCert, p *peerSpec, r role) {
	if _, err := p.probe(); err != nil {
		if inCI || !errors.Is(err, errPeerMissing) {
			t.Fatalf("%s: %v", p.name, err)
		}
		t.Skipf("%s: %v", p.name, err)
	}
	w := &wssSide{cfg: c.serverConfig(), client: c.clientConfig()}
	v := variant{name: "wss", about: "Server.ListenTLS and Client.Dial over wss, engine defaults", wss: w}
	cp, sp := startPeer(t, p, r)
	var peer any = cp // the one that is set, for diag
	if sp != nil {
		peer = sp
	}
	deadline := time.Now().Add(columnBudget)
	for _, sc := range wssScenarios() {
		if time.Now().After(deadline) {
			t.Errorf("%s: not run: the column took over %v", sc.key(), columnBudget)
			continue
		}
		res := runCell(v, p, r, cp, sp, sc)
		if res.took > 2*time.Second {
			t.Logf("%s took %v", sc.key(), res.took.Round(time.Millisecond))
		}
		switch res.status {
		case cellFail:
			t.Errorf("%s over wss: FAIL: %s", sc.key(), res.detail)
			if d, ok := peer.(interface{ diag() string }); ok {
				t.Logf("peer stderr (tail):\n%s", d.diag())
			}
		case cellLimit:
			t.Logf("%s: peer limit: %s", sc.key(), res.detail)
		case cellNA:
			t.Logf("%s: n/a: %s", sc.key(), res.detail)
		}
	}
	loop, gor, failed := w.loop.Load(), w.goroutine.Load(), w.failed.Load()
	t.Logf("TLS connections: %d on the loops, %d in goroutine mode, %d handshakes failed", loop, gor, failed)
	if loop == 0 || gor != 0 {
		t.Errorf("%s: %d connections on the loops and %d in goroutine mode, want all on the loops", p.name, loop, gor)
	}
	if failed != 0 {
		t.Errorf("%s: %d TLS handshakes failed", p.name, failed)
	}
	if r == weirClient {
		// Each cell's Client dials once: every Dial that returned a connection
		// handed exactly one off to the loops (checkClient).
		if d := w.dials.Load(); loop != d {
			t.Errorf("%s: %d Dials returned a connection, %d handed off to the loops", p.name, d, loop)
		}
		for _, cell := range w.offLoop {
			t.Errorf("%s over wss: weir's client connection not on the loops: %s", p.name, cell)
		}
	}
}

// wssEchoSizes replace echoSizes over wss: the record's edges (2^14 bytes of
// plaintext at most, RFC 8446 §5.1; a frame header puts the payload's edge a
// few bytes off) instead of 8 MiB, which took Chromium and Python 10-16 s a
// row over TLS on a loaded 2-core machine and tells the record layer nothing
// that 1 MiB (64 records) does not.
var wssEchoSizes = []int{0, 125, 126, 16379, 16380, 16384, 16385, 65535, 65536, 1 << 20}

// wssScenarios are the scenarios with the echo rows on wssEchoSizes.
func wssScenarios() []*scenario {
	out := make([]*scenario, len(scenarios))
	for i, sc := range scenarios {
		out[i] = sc
		if sc.group != "echo" || (sc.name != "text" && sc.name != "binary") {
			continue
		}
		op, gen := frame.OpText, textPayload
		if sc.name == "binary" {
			op, gen = frame.OpBinary, binaryPayload
		}
		c := *sc
		c.run = func(x *exchange) error {
			for _, n := range wssEchoSizes {
				if err := x.echo(op, gen(n)); err != nil {
					return fmt.Errorf("%d bytes: %w", n, err)
				}
			}
			return x.closeNormal()
		}
		out[i] = &c
	}
	return out
}
