//go:build linux || darwin || freebsd

package poller_test

import (
	"testing"

	"github.com/weir-ws/weir/poller"
	"golang.org/x/sys/unix"
)

// BenchmarkWakeWait is one Wake followed by the Wait it ends, on one
// goroutine: the syscall cost of a wake-up (eventfd write, epoll_wait,
// eventfd read on Linux).
func BenchmarkWakeWait(b *testing.B) {
	p := newPoller(b)
	events := make([]poller.Event, 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Wake(); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Wait(events, -1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWakeWaitPingPong bounces a wake-up between two loops on two
// goroutines: the latency of handing work to a blocked loop and back.
func BenchmarkWakeWaitPingPong(b *testing.B) {
	p1, p2 := newPoller(b), newPoller(b)
	done := make(chan struct{})
	go func() {
		defer close(done)
		events := make([]poller.Event, 64)
		for {
			if _, err := p2.Wait(events, -1); err != nil {
				return
			}
			p1.Wake()
		}
	}()
	events := make([]poller.Event, 64)
	b.ReportAllocs()
	for b.Loop() {
		p2.Wake()
		if _, err := p1.Wait(events, -1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	p2.Close()
	<-done
}

// BenchmarkReadableEvent is the per-message path of an event loop: the peer
// writes one byte, Wait reports it, the loop reads it.
func BenchmarkReadableEvent(b *testing.B) {
	p := newPoller(b)
	a, peer := socketPair(b)
	if err := p.Add(a, 0, poller.Read); err != nil {
		b.Fatal(err)
	}
	events := make([]poller.Event, 64)
	one, buf := []byte{1}, make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		unix.Write(peer, one)
		n, err := p.Wait(events, -1)
		if err != nil || n != 1 {
			b.Fatalf("Wait: %d, %v", n, err)
		}
		unix.Read(a, buf)
	}
}

// BenchmarkModifyWrite arms and disarms Write interest, as the engine does
// around a short write.
func BenchmarkModifyWrite(b *testing.B) {
	p := newPoller(b)
	a, _ := socketPair(b)
	if err := p.Add(a, 0, poller.Read); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Modify(a, 0, poller.Read|poller.Write)
		p.Modify(a, 0, poller.Read)
	}
}
