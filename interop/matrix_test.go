package interop

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMatrix runs every scenario on every pair (peer × role) and variant, and
// records each cell for docs/conformance.md. Columns run in parallel (up to
// -parallel, GOMAXPROCS by default), the scenarios of a column one after another
// against one peer process.

type cellStatus int

const (
	cellNotRun cellStatus = iota // the peer is not installed (never under CI=true)
	cellPass
	cellFail
	cellLimit // the peer's documented limit, seen as documented
	cellNA    // the pair cannot express the scenario at all
)

type cellKey struct {
	variant, peer, scenario string
	role                    role
}

type cellResult struct {
	status cellStatus
	detail string
	took   time.Duration
}

// results collects the cells and the peers' versions of this run.
var results = struct {
	sync.Mutex
	cells    map[cellKey]cellResult
	versions map[string]string
}{cells: map[cellKey]cellResult{}, versions: map[string]string{}}

func record(k cellKey, r cellResult) {
	results.Lock()
	results.cells[k] = r
	results.Unlock()
}

// inCI: under CI=true nothing may skip.
var inCI = os.Getenv("CI") == "true"

func (p *peerSpec) roles() []role {
	var rs []role
	if p.newClient != nil {
		rs = append(rs, weirServer)
	}
	if p.newServer != nil {
		rs = append(rs, weirClient)
	}
	return rs
}

// columnBudget bounds one column, so that a hung peer cannot hold the run for
// every step timeout of every row (a column takes seconds when all is well;
// Chromium's columns took over 90 s at load 25-47 on 2 cores, eight columns
// at once).
const columnBudget = 180 * time.Second

func TestMatrix(t *testing.T) {
	for _, v := range variants {
		for _, p := range peers {
			for _, r := range p.roles() {
				t.Run(fmt.Sprintf("%s/%s/%s", v.name, roleSlug(r), p.name), func(t *testing.T) {
					t.Parallel()
					runColumn(t, v, p, r)
				})
			}
		}
	}
}

// startPeer starts p in the role across from weir's r (its client when weir
// serves) and closes it when the test ends.
func startPeer(t *testing.T, p *peerSpec, r role) (clientPeer, serverPeer) {
	t.Helper()
	var (
		cp  clientPeer
		sp  serverPeer
		err error
	)
	if r == weirServer {
		cp, err = p.newClient()
	} else {
		sp, err = p.newServer()
	}
	if err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	t.Cleanup(func() {
		if cp != nil {
			cp.close()
		}
		if sp != nil {
			sp.close()
		}
	})
	return cp, sp
}

func roleSlug(r role) string {
	if r == weirServer {
		return "weir-server"
	}
	return "weir-client"
}

func runColumn(t *testing.T, v variant, p *peerSpec, r role) {
	version, err := p.probe()
	if err != nil {
		for _, sc := range scenarios {
			record(cellKey{v.name, p.name, sc.key(), r}, cellResult{status: cellNotRun, detail: err.Error()})
		}
		if inCI || !errors.Is(err, errPeerMissing) {
			t.Fatalf("%s: %v", p.name, err)
		}
		t.Skipf("%s: %v", p.name, err)
	}
	results.Lock()
	results.versions[p.name] = version
	results.Unlock()

	cp, sp := startPeer(t, p, r)
	deadline := time.Now().Add(columnBudget)
	for _, sc := range scenarios {
		t.Run(sc.key(), func(t *testing.T) {
			k := cellKey{v.name, p.name, sc.key(), r}
			var res cellResult
			if time.Now().After(deadline) {
				res = cellResult{status: cellFail, detail: fmt.Sprintf("not run: the column took over %v (a peer that hangs?)", columnBudget)}
			} else {
				res = runCell(v, p, r, cp, sp, sc)
			}
			record(k, res)
			switch res.status {
			case cellFail:
				t.Errorf("%s, %s, %s: FAIL: %s", p.name, r, sc.key(), res.detail)
				if d, ok := any(cp).(interface{ diag() string }); ok && cp != nil {
					t.Logf("peer stderr (tail):\n%s", d.diag())
				}
				if d, ok := any(sp).(interface{ diag() string }); ok && sp != nil {
					t.Logf("peer stderr (tail):\n%s", d.diag())
				}
			case cellLimit:
				t.Logf("peer limit: %s", res.detail)
			case cellNA:
				t.Logf("n/a: %s", res.detail)
			default:
				if res.detail != "" {
					t.Logf("%s", res.detail)
				}
			}
		})
	}
}

func runCell(v variant, p *peerSpec, r role, cp clientPeer, sp serverPeer, sc *scenario) cellResult {
	if sc.na != nil {
		if why := sc.na(p, r); why != "" {
			return cellResult{status: cellNA, detail: why}
		}
	}
	start := time.Now()
	var (
		x    *exchange
		stop func()
		err  error
	)
	if r == weirServer {
		x, stop, err = openServerSide(p, cp, sc, v)
	} else {
		x, stop, err = openClientSide(p, sp, sc, v)
	}
	if stop != nil {
		defer stop()
	}
	if err == nil && v.deflate != nil && x.c != nil && deflatePeer(p.name, r) {
		if _, ok := x.c.Compression(); !ok {
			err = fmt.Errorf("permessage-deflate was not negotiated with %s", p.name)
		}
	}
	if err == nil {
		err = sc.run(x)
	}
	res := judge(v, p, r, sc, err)
	res.took = time.Since(start)
	if x != nil && len(x.notes) > 0 {
		res.detail = strings.TrimPrefix(res.detail+"; "+strings.Join(x.notes, "; "), "; ")
	}
	return res
}

// judge turns a scenario's error into the cell's status, through the limits table
// and the known weir bugs.
func judge(v variant, p *peerSpec, r role, sc *scenario, err error) cellResult {
	lim := findLimit(p.name, sc.key(), r)
	switch {
	case err == nil && lim == nil:
		return cellResult{status: cellPass}
	case err == nil:
		return cellResult{status: cellFail, detail: "passed, but limits_test.go says it cannot (" + lim.why + "): remove the limit"}
	case lim != nil && lim.seen(err):
		return cellResult{status: cellLimit, detail: lim.why}
	}
	detail := err.Error()
	if lim != nil {
		detail += " (not the documented limit: " + lim.why + ")"
	}
	if bug := bugForCell(v.name, p.name, sc.key(), r); bug != "" {
		detail = bug + ": " + detail
	}
	return cellResult{status: cellFail, detail: detail}
}
