package engine

import (
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
	}, enginePkg, machinePkg)
}

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
