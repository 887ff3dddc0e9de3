// Package leakcheck finds goroutines that tests left behind: those with a stack
// frame (or a "created by" line) in the given packages. Test mains call Run; it
// is for tests only.
package leakcheck

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Stacks returns the stacks of the goroutines, other than the caller's, that
// mention any of pkgs (import paths followed by a dot, such as
// "github.com/weir-ws/weir/engine.").
func Stacks(pkgs ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	// Goroutines are separated by blank lines; the first is the caller's own.
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue
		}
		for _, p := range pkgs {
			if bytes.Contains(g, []byte(p)) {
				found = append(found, string(g))
				break
			}
		}
	}
	return found
}

// Wait waits up to wait for the goroutines of pkgs to end, and returns the
// stacks of those still there.
func Wait(wait time.Duration, pkgs ...string) []string {
	deadline := time.Now().Add(wait)
	for {
		left := Stacks(pkgs...)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Run runs m, then, before exiting, gives the goroutines of pkgs 5 s to end and
// fails the run (printing their stacks) if any is left. before, if not nil, runs
// between the two (to stop what lives for the whole process by design).
func Run(m *testing.M, before func(), pkgs ...string) {
	code := m.Run()
	if before != nil {
		before()
	}
	if left := Wait(5*time.Second, pkgs...); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d goroutine(s) left behind after the tests:\n\n%s\n",
			len(left), strings.Join(left, "\n\n"))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
