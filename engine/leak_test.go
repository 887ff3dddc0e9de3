package engine

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain runs the package's tests and benchmarks, then fails the run if any
// goroutine of package engine (the engine's own, or one a test started) is still
// alive: every Server and Client must be closed and every connection finished.
// Stacks of the leftovers are printed.
func TestMain(m *testing.M) {
	code := m.Run()
	// The default client behind the package-level Dial lives for the whole process by
	// design (like http.DefaultTransport); stop it so that only real leftovers remain.
	if defaultClient != nil {
		defaultClient.Close()
	}
	if leaked := engineGoroutines(5 * time.Second); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d goroutine(s) of package engine left behind after the tests:\n\n%s\n",
			len(leaked), strings.Join(leaked, "\n\n"))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// enginePkg marks a stack frame (or a "created by" line) in package engine.
const enginePkg = "github.com/weir-ws/weir/engine."

// engineGoroutines waits up to wait for every goroutine in package engine, other
// than the caller, to end, and returns the stacks of those still there.
func engineGoroutines(wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		leaked := engineStacks()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func engineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaked []string
	// Goroutines are separated by blank lines; the first is the caller's own.
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue
		}
		if bytes.Contains(g, []byte(enginePkg)) {
			leaked = append(leaked, string(g))
		}
	}
	return leaked
}

// TestLeakCheckSeesGoroutines checks the checker: a goroutine started here is found
// until it ends.
func TestLeakCheckSeesGoroutines(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	started := make(chan struct{})
	go leakProbe(started, stop)
	<-started
	found := false
	for _, g := range engineStacks() {
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
		for _, g := range engineStacks() {
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
