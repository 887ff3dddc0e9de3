package leakcheck

import (
	"strings"
	"testing"
	"time"
)

// A goroutine started here is found until it ends.
func TestStacksSeesGoroutines(t *testing.T) {
	t.Parallel()
	const pkg = "github.com/weir-ws/weir/internal/leakcheck."
	stop := make(chan struct{})
	started := make(chan struct{})
	go probe(started, stop)
	<-started
	has := func() bool {
		for _, g := range Stacks(pkg) {
			if strings.Contains(g, "leakcheck.probe") {
				return true
			}
		}
		return false
	}
	if !has() {
		t.Fatal("a live goroutine was not reported")
	}
	if len(Stacks("example.com/nothing.")) != 0 {
		t.Fatal("goroutines reported for a package that has none")
	}
	close(stop)
	if left := Wait(5*time.Second, pkg+"probe"); len(left) != 0 {
		t.Fatalf("an ended goroutine is still reported:\n%s", left[0])
	}
}

func probe(started, stop chan struct{}) {
	close(started)
	<-stop
}
