package spawn

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestGoAllOrNone(t *testing.T) {
	t.Parallel()
	var g Group
	var ran atomic.Int32
	if !g.Go(func() { ran.Add(1) }, func() { ran.Add(1) }) {
		t.Fatal("Go refused before Close")
	}
	g.Close()
	g.Close() // a second Close changes nothing
	if !g.Closed() {
		t.Fatal("Closed: false after Close")
	}
	if g.Go(func() { ran.Add(10) }) {
		t.Fatal("Go started a goroutine after Close")
	}
	g.Wait()
	if n := ran.Load(); n != 2 {
		t.Fatalf("ran %d, want 2", n)
	}
}

// TestCloseWaitRacesGo: a Go racing Close either starts its goroutine before
// Wait begins (and Wait waits for it) or starts nothing. Under -race a
// WaitGroup Add racing its Wait is reported.
func TestCloseWaitRacesGo(t *testing.T) {
	t.Parallel()
	for range 200 {
		var g Group
		var started, finished atomic.Int32
		var spawners sync.WaitGroup
		for range 4 {
			spawners.Add(1)
			go func() {
				defer spawners.Done()
				for g.Go(func() { started.Add(1); finished.Add(1) }) {
				}
			}()
		}
		g.Close()
		g.Wait()
		if s, f := started.Load(), finished.Load(); s != f {
			t.Fatalf("Wait returned with %d of %d goroutines unfinished", s-f, s)
		}
		spawners.Wait()
		if s, f := started.Load(), finished.Load(); s != f {
			t.Fatalf("a goroutine started after Wait returned (%d started, %d finished by then)", s, f)
		}
	}
}
