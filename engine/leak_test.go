package engine

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/internal/leakcheck"
)

// TestMain runs the package's tests and benchmarks, then fails the run if any
// goroutine of package engine (the engine's own, or one a test started) is still
// alive: every Server and Client must be closed and every connection finished.
// Stacks of the leftovers are printed.
func TestMain(m *testing.M) {
	leakcheck.Run(m, func() {
		// The default client behind the package-level Dial lives for the whole
		// process by design (like http.DefaultTransport); stop it so that only real
		// leftovers remain.
		if defaultClient != nil {
			defaultClient.Close()
		}
	}, leakPkgs...)
}

// leakPkgs are the packages whose goroutines must all have ended: the
// engine's and the machine's (TestLeakCheckSeesMachine).
var leakPkgs = []string{enginePkg, machinePkg}

// enginePkg marks a stack frame (or a "created by" line) in package engine.
const enginePkg = "github.com/weir-ws/weir/engine."

// machinePkg marks one in the connection machine (goroutine mode's reader and
// writer, the timer loop, the stop's goroutines start there).
const machinePkg = "github.com/weir-ws/weir/internal/wsconn."

// TestLeakCheckSeesGoroutines checks the checker: a goroutine started here is found
// until it ends.
func TestLeakCheckSeesGoroutines(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	started := make(chan struct{})
	go leakProbe(started, stop)
	<-started
	found := false
	for _, g := range leakcheck.Stacks(enginePkg) {
		if strings.Contains(g, "engine.leakProbe") {
			found = true
		}
	}
	close(stop)
	if !found {
		t.Fatal("a live goroutine of package engine was not reported")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		gone := true
		for _, g := range leakcheck.Stacks(enginePkg) {
			if strings.Contains(g, "engine.leakProbe") {
				gone = false
			}
		}
		if gone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an ended goroutine is still reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func leakProbe(started, stop chan struct{}) {
	close(started)
	<-stop
}

// TestLeakCheckSeesMachine: the goroutines a goroutine-mode connection runs
// on (its reader, its writer, the engine's timer loop), which start in the
// machine (internal/wsconn) and have no frame in package engine, are among
// those TestMain's check finds while they live.
func TestLeakCheckSeesMachine(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newEcho(), Config{GoroutinePerConn: true}, nil)
	c := cliDial(t, cliClient(t, nil, Config{GoroutinePerConn: true}), "ws://"+addr+"/", nil)
	defer c.Abort()
	cliEchoOnce(t, c)
	checked := leakcheck.Stacks(leakPkgs...)
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	found := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, f := range []string{"perconn.(*Socket).ReadLoop", "perconn.(*Socket).WriteLoop", "perconn.Tick"} {
			if !strings.Contains(g, f) {
				continue
			}
			found[f]++
			id, _, _ := strings.Cut(g, "[")
			if !slices.ContainsFunc(checked, func(s string) bool { return strings.HasPrefix(s, id+"[") }) {
				t.Errorf("the leak check does not see %s:\n%s", f, g)
			}
		}
	}
	// Two connections (the server's and the client's), two timer loops.
	for _, f := range []string{"perconn.(*Socket).ReadLoop", "perconn.(*Socket).WriteLoop", "perconn.Tick"} {
		if found[f] < 2 {
			t.Errorf("%d goroutines in %s, want 2 at least: the test does not cover them", found[f], f)
		}
	}
}
