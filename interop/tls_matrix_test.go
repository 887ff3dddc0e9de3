package interop

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// TestTLSMatrix runs every cell of TestMatrix again over wss: every variant
// (variants_test.go), every scenario, every peer, both ways: weir's
// Server.ListenTLS against the client peers (the "weir-server" columns) and
// weir's Client.Dial against the peers' TLS servers (the "weir-client"
// columns), with the variant's engine configuration and permessage-deflate on
// both. Subtests are named as TestMatrix's, <variant>/<role>/<peer>. The cells
// are judged as TestMatrix judges them (limits_test.go; deflate must be
// negotiated with the peers deflatePeer names), except that the echo rows use
// wssEchoSizes. Every weir connection must run over TLS 1.3, and where the
// variant puts it: on the loops (the record layer of internal/tlsrec), none in
// goroutine mode, except with Config.GoroutinePerConn (plain-goroutine), where
// all are in goroutine mode and none on the loops (wssSide.verdict). The cells are not recorded for
// docs/conformance.md. The variants' columns of one peer and role share one
// peer process (tlsPeers).
func TestTLSMatrix(t *testing.T) {
	t.Parallel()
	c := newTestCert(t)
	ps := wssPeers(c)
	shared := &tlsPeers{m: map[string]*tlsPeer{}}
	// Cleanup runs once every column, parallel ones included, has ended.
	t.Cleanup(shared.close)
	// Probed once per peer, not once per column.
	probed := make(map[string]error, len(ps))
	for _, p := range ps {
		_, probed[p.name] = p.probe()
	}
	for _, v := range variants {
		for _, p := range ps {
			for _, r := range p.roles() {
				t.Run(fmt.Sprintf("%s/%s/%s", v.name, roleSlug(r), p.name), func(t *testing.T) {
					t.Parallel()
					if err := probed[p.name]; err != nil {
						if inCI || !errors.Is(err, errPeerMissing) {
							t.Fatalf("%s: %v", p.name, err)
						}
						t.Skipf("%s: %v", p.name, err)
					}
					runTLSColumn(t, c, v, p, r, shared)
				})
			}
		}
	}
}

// runTLSColumn runs the column of p in role r for variant v over wss, every
// scenario on a fresh connection against the peer that shared holds, and
// checks the TLS counters.
func runTLSColumn(t *testing.T, c *testCert, v variant, p *peerSpec, r role, shared *tlsPeers) {
	w := &wssSide{cfg: c.serverConfig(), client: c.clientConfig(), goroutineMode: v.config(engine.Config{}).GoroutinePerConn}
	v.wss = w
	cp, sp, err := shared.get(p, r)
	if err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	var peer any = cp // the one that is set, for diag
	if sp != nil {
		peer = sp
	}
	deadline := time.Now().Add(columnBudget)
	var count [cellNA + 1]int
	defer func() {
		t.Logf("cells over wss: %d pass, %d peer limit, %d n/a, %d fail", count[cellPass], count[cellLimit], count[cellNA], count[cellFail])
	}()
	for _, sc := range wssScenarios() {
		if time.Now().After(deadline) {
			t.Errorf("%s: not run: the column took over %v", sc.key(), columnBudget)
			count[cellFail]++
			continue
		}
		res := runCell(v, p, r, cp, sp, sc)
		count[res.status]++
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
	t.Logf("TLS connections: %d opened; TLSMetrics: %d on the loops, %d in goroutine mode, %d handshakes failed",
		w.opened.Load(), w.loop.Load(), w.goroutine.Load(), w.failed.Load())
	for _, e := range w.verdict(r) {
		t.Errorf("%s over wss: %s", p.name, e)
	}
}

// tlsPeers start each peer once per role for the columns of every variant,
// which then run against it at once, and close them when TestTLSMatrix ends:
// a peer serves concurrent connections (the Node and Python peers
// asynchronously, Chromium's page, the Go peers on a goroutine each), and its
// reports are matched by connection id (mailbox), so five columns need not
// start five processes (run alone, the TLS matrix took 26 s and 27 s of CPU
// so, against 33 s and 43 s with a peer per column, back to back). A failing cell's "peer stderr" is
// then the shared process's, all variants' lines mixed. TestMatrix keeps a
// peer per column.
type tlsPeers struct {
	mu sync.Mutex
	m  map[string]*tlsPeer // by role and peer
}

type tlsPeer struct {
	once sync.Once
	cp   clientPeer
	sp   serverPeer
	err  error
}

// get returns the peer p across from weir's r (its client when weir serves),
// started by the first column that asks.
func (ps *tlsPeers) get(p *peerSpec, r role) (clientPeer, serverPeer, error) {
	ps.mu.Lock()
	k := roleSlug(r) + "/" + p.name
	e := ps.m[k]
	if e == nil {
		e = &tlsPeer{}
		ps.m[k] = e
	}
	ps.mu.Unlock()
	e.once.Do(func() {
		if r == weirServer {
			e.cp, e.err = p.newClient()
		} else {
			e.sp, e.err = p.newServer()
		}
	})
	return e.cp, e.sp, e.err
}

// close closes the peers that started.
func (ps *tlsPeers) close() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, e := range ps.m {
		switch {
		case e.err != nil: // nothing started (a failed start may be a typed nil)
		case e.cp != nil:
			e.cp.close()
		case e.sp != nil:
			e.sp.close()
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
