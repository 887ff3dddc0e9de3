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
var leakPkgs = []string{enginePkg, machinePkg, reactorPkg}

// reactorPkg marks one in the loops and the worker pool the machine runs on
// (internal/reactor), which idle have no frame of engine's or the machine's.
const reactorPkg = "github.com/weir-ws/weir/internal/reactor."

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

// TestLeakCheckSeesMachine: the goroutines connections run on, which start
// outside package engine, are among those TestMain's check finds while they
// live: goroutine mode's reader and writer and the timer loop (started in
// the machine, internal/wsconn), and the loops and pool workers (started in
// internal/reactor; idle, they have no frame of the machine's either).
func TestLeakCheckSeesMachine(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{GoroutinePerConn: true}, {Loops: 1, Workers: 1}} {
		_, addr := startServer(t, newEcho(), cfg, nil)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
		defer c.Abort()
		cliEchoOnce(t, c)
	}
	watched := []string{
		"perconn.(*Socket).ReadLoop", "perconn.(*Socket).WriteLoop", "perconn.Tick",
		"reactor.(*Loop[...]).run", "reactor.(*Reactor[...]).poolWorker",
	}
	// Other tests start and end goroutines meanwhile, so one seen in a
	// snapshot of all may have started after the checker's, or ended before
	// it: a goroutine counts as missed only when seen in two rounds of
	// snapshots and missed in both.
	seen, missed := map[string]int{}, map[string]int{}
	stacks := map[string]string{}
	found := map[string]int{}
	for round := range 3 {
		checked := leakcheck.Stacks(leakPkgs...)
		for _, g := range allStacks() {
			for _, f := range watched {
				if !strings.Contains(g, f) {
					continue
				}
				if round == 0 {
					found[f]++
				}
				id, _, _ := strings.Cut(g, "[")
				seen[id]++
				if !slices.ContainsFunc(checked, func(s string) bool { return strings.HasPrefix(s, id+"[") }) {
					missed[id]++
					stacks[id] = g
				}
			}
		}
	}
	for id, n := range missed {
		if n >= 2 && n == seen[id] {
			t.Errorf("the leak check does not see:\n%s", stacks[id])
		}
	}
	for _, f := range watched {
		if found[f] < 2 {
			t.Errorf("%d goroutines in %s, want 2 at least: the test does not cover them", found[f], f)
		}
	}
}

// allStacks returns the stack of every goroutine.
func allStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}
