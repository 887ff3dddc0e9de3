package msgqueue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

type reader struct{ paused atomic.Bool }

func (r *reader) PauseRead()     { r.paused.Store(true) }
func (r *reader) ResumeRead()    { r.paused.Store(false) }
func (r *reader) IsPaused() bool { return r.paused.Load() }

func none() error { return nil } // not ended

// Full at Max: reading pauses; popping below Max/2+1 resumes it; messages
// are copies and come in order.
func TestBackpressure(t *testing.T) {
	t.Parallel()
	r := &reader{}
	q := New(4)
	q.Open()
	buf := []byte("0")
	for i := range 4 {
		buf[0] = byte('0' + i)
		q.Push(r, frame.OpText, buf)
		if r.IsPaused() != (i == 3) {
			t.Fatalf("after %d pushes paused=%v", i+1, r.IsPaused())
		}
	}
	for i := range 4 {
		_, p, err := q.Pop(context.Background(), r, none)
		if err != nil || string(p) != strconv.Itoa(i) {
			t.Fatalf("pop %d: %q %v", i, p, err)
		}
		// 4 -> 3 left: still paused; 2 left (< 4/2+1): resumed.
		if want := i == 0; r.IsPaused() != want {
			t.Fatalf("after pop %d paused=%v, want %v", i, r.IsPaused(), want)
		}
	}
	if q.Len() != 0 || New(0).max != DefaultMax {
		t.Fatalf("len %d", q.Len())
	}
}

func TestEnd(t *testing.T) {
	t.Parallel()
	r := &reader{}
	q := New(0)
	q.Open()
	q.Push(r, frame.OpBinary, []byte("last"))
	boom := errors.New("closed")
	q.End(boom)
	if _, p, err := q.Pop(context.Background(), r, none); string(p) != "last" || err != nil {
		t.Fatalf("queued message before the end: %q %v", p, err)
	}
	for range 2 {
		if _, _, err := q.Pop(context.Background(), r, none); err != boom {
			t.Fatalf("pop after End: %v", err)
		}
	}
}

// A Pop waits; ctx ends it without taking the message pushed afterwards.
func TestPopWaits(t *testing.T) {
	t.Parallel()
	r := &reader{}
	q := New(0)
	q.Open()
	got := make(chan string, 1)
	go func() {
		_, p, _ := q.Pop(context.Background(), r, none)
		got <- string(p)
	}()
	q.Push(r, frame.OpText, []byte("x"))
	select {
	case p := <-got:
		if p != "x" {
			t.Fatalf("got %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Pop not woken by Push")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := q.Pop(ctx, r, none); !errors.Is(err, context.Canceled) {
		t.Fatalf("Pop with a done ctx: %v", err)
	}
}

// A connection that ended without opening gets unopened's error; one that
// opened waits for End instead.
func TestUnopened(t *testing.T) {
	t.Parallel()
	r := &reader{}
	gone := errors.New("never opened")
	q := New(0)
	if _, _, err := q.Pop(context.Background(), r, func() error { return gone }); err != gone {
		t.Fatalf("unopened: %v", err)
	}
	q.Open()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := q.Pop(ctx, r, func() error { return gone }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("opened: %v, want to wait for End", err)
	}
}

// A Handler queues what OnMessage gets, pausing at Max, and ends the queue
// with the close status made by its closed func, or with the error of an
// abnormal end (1006).
func TestHandler(t *testing.T) {
	t.Parallel()
	closed := func(code frame.StatusCode, reason string) error {
		return fmt.Errorf("closed %d %s", code, reason)
	}
	for _, tc := range []struct {
		name   string
		code   frame.StatusCode
		err    error
		wantIs error  // errors.Is the end
		want   string // or its text
	}{
		{"clean", frame.StatusNormalClosure, nil, nil, "closed 1000 bye"},
		{"failed with a close frame", frame.StatusProtocolError, io.ErrUnexpectedEOF, nil, "closed 1002 bye"},
		{"abnormal", frame.StatusAbnormalClosure, io.ErrUnexpectedEOF, io.ErrUnexpectedEOF, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := NewHandler[*reader](2, nil, closed, func(*reader) {})
			r := &reader{}
			h.OnOpen(r)
			h.OnMessage(r, frame.OpText, []byte("a"))
			h.OnMessage(r, frame.OpBinary, []byte("b"))
			if !r.paused.Load() || !h.OnPing(r, nil) {
				t.Fatal("a full queue did not pause reading, or a ping was refused its pong")
			}
			h.OnClose(r, tc.code, "bye", tc.err)
			for _, want := range []string{"a", "b"} {
				if _, p, err := h.Pop(context.Background(), r, func() error { return nil }); err != nil || string(p) != want {
					t.Fatalf("Pop: %q, %v; want %q", p, err, want)
				}
			}
			_, _, err := h.Pop(context.Background(), r, func() error { return nil })
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) || tc.wantIs == nil && (err == nil || err.Error() != tc.want) {
				t.Fatalf("end: %v", err)
			}
		})
	}
}

// Full at MaxBytes too: a few large messages pause reading however few they
// are (64 messages of 16 MiB would otherwise be 1 GiB held for a slow
// reader), and popping resumes it once both the count and the bytes are
// under half.
func TestBackpressureBytes(t *testing.T) {
	t.Parallel()
	r := &reader{}
	q := New(64)
	q.Open()
	big := make([]byte, MaxBytes*3/5)
	q.Push(r, frame.OpBinary, big)
	if r.IsPaused() {
		t.Fatal("paused after one message under MaxBytes")
	}
	q.Push(r, frame.OpBinary, big)
	if !r.IsPaused() {
		t.Fatalf("not paused with %d bytes queued (MaxBytes %d)", 2*len(big), MaxBytes)
	}
	q.Pop(context.Background(), r, none)
	if !r.IsPaused() {
		t.Fatal("resumed with more than MaxBytes/2 still queued")
	}
	q.Pop(context.Background(), r, none)
	if r.IsPaused() {
		t.Fatal("still paused with the queue empty")
	}
}

// TestManyPoppers: poppers waiting at once are all woken, by the messages
// pushed (one each) and by End. Before, End's one wake-up woke one of them
// and the others waited for good.
func TestManyPoppers(t *testing.T) {
	t.Parallel()
	const n = 4
	r := &reader{}
	q := New(0)
	q.Open()
	type popped struct {
		p   string
		err error
	}
	got := make(chan popped, 2*n)
	var waiting sync.WaitGroup
	pop := func() {
		waiting.Done()
		_, p, err := q.Pop(context.Background(), r, none)
		got <- popped{string(p), err}
	}
	waiting.Add(n)
	for range n {
		go pop()
	}
	waiting.Wait()
	time.Sleep(10 * time.Millisecond) // into their wait
	for i := range n {
		q.Push(r, frame.OpText, []byte{'a' + byte(i)})
	}
	seen := map[string]bool{}
	for range n {
		select {
		case g := <-got:
			if g.err != nil || seen[g.p] {
				t.Fatalf("popped %q, %v (seen: %v)", g.p, g.err, seen)
			}
			seen[g.p] = true
		case <-time.After(2 * time.Second):
			t.Fatalf("%d of %d poppers woken by %d messages", len(seen), n, n)
		}
	}
	waiting.Add(n)
	for range n {
		go pop()
	}
	waiting.Wait()
	time.Sleep(10 * time.Millisecond)
	boom := errors.New("closed")
	q.End(boom)
	for i := range n {
		select {
		case g := <-got:
			if g.err != boom {
				t.Fatalf("after End: %q, %v", g.p, g.err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%d of %d poppers woken by End", i, n)
		}
	}
}

// budget is a Budget with a maximum that counts what it holds.
type budget struct{ n, max int }

func (b *budget) Charge(n int) bool {
	if b.n+n > b.max {
		return false
	}
	b.n += n
	return true
}

func (b *budget) Refund(n int) {
	if b.n -= n; b.n < 0 {
		panic("refunded more than charged")
	}
}

// TestBudget: queued copies are charged until popped (the caller's then) or
// until End (the program may never take them); a copy the budget refuses is
// not queued and the Handler calls refused.
func TestBudget(t *testing.T) {
	t.Parallel()
	b := &budget{max: 100}
	r := &reader{}
	var refusedN int
	h := NewHandler[*reader](0, b, func(frame.StatusCode, string) error { return io.EOF }, func(*reader) { refusedN++ })
	h.OnOpen(r)
	h.OnMessage(r, frame.OpBinary, make([]byte, 60))
	if b.n < 60 || refusedN != 0 {
		t.Fatalf("after 60 bytes: charged %d, refused %d", b.n, refusedN)
	}
	h.OnMessage(r, frame.OpBinary, make([]byte, 60))
	if refusedN != 1 || h.Len() != 1 {
		t.Fatalf("past the budget: refused %d, queued %d", refusedN, h.Len())
	}
	if _, p, err := h.Pop(context.Background(), r, none); err != nil || len(p) != 60 || b.n != 0 {
		t.Fatalf("Pop: %d bytes, %v; charged %d after", len(p), err, b.n)
	}
	h.OnMessage(r, frame.OpBinary, make([]byte, 30))
	h.OnMessage(r, frame.OpBinary, make([]byte, 30))
	h.OnClose(r, frame.StatusNormalClosure, "", nil)
	if b.n != 0 {
		t.Fatalf("charged %d after End", b.n)
	}
	for range 2 {
		if _, p, err := h.Pop(context.Background(), r, none); err != nil || len(p) != 30 || b.n != 0 {
			t.Fatalf("Pop after End: %d bytes, %v; charged %d", len(p), err, b.n)
		}
	}
}
