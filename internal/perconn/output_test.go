package perconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeOutput hands out queued chunks under its lock and records what was
// written and when the lock was held.
type fakeOutput struct {
	mu       sync.Mutex
	held     bool // mu is held (checked by the methods that need it)
	queue    [][]byte
	closed   bool
	released bool
	written  bytes.Buffer // the buffers given back to Written, whole
	wrote    int          // the sum of Wrote's reports
	err      error        // Written's
	after    []error      // After's, in order
	ended    int          // Ended's calls
	t        *testing.T
}

func (o *fakeOutput) Lock()   { o.mu.Lock(); o.held = true }
func (o *fakeOutput) Unlock() { o.held = false; o.mu.Unlock() }

func (o *fakeOutput) locked(what string) {
	if !o.held {
		o.t.Errorf("%s without the lock", what)
	}
}

func (o *fakeOutput) Take() []byte {
	o.locked("Take")
	if len(o.queue) == 0 {
		return nil
	}
	buf := o.queue[0]
	o.queue = o.queue[1:]
	return buf
}

func (o *fakeOutput) Closed() bool { o.locked("Closed"); return o.closed }
func (o *fakeOutput) Release()     { o.locked("Release"); o.released = true }

func (o *fakeOutput) Wrote(n int) {
	o.mu.Lock() // never called with the lock held: this would deadlock
	o.wrote += n
	o.mu.Unlock()
}

func (o *fakeOutput) Written(buf []byte, err error) {
	o.locked("Written")
	o.written.Write(buf)
	if err != nil {
		o.err = err
	}
}

func (o *fakeOutput) After(err error) {
	o.mu.Lock()
	o.after = append(o.after, err)
	o.mu.Unlock()
}

func (o *fakeOutput) Ended() {
	o.mu.Lock() // never called with the lock held: this would deadlock
	o.ended++
	o.mu.Unlock()
}

func (o *fakeOutput) push(p []byte, closed bool) {
	o.mu.Lock()
	o.queue = append(o.queue, p)
	o.closed = closed
	o.mu.Unlock()
}

func (o *fakeOutput) get(f func() bool) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return f()
}

// WriteLoop writes what Take hands it each time Kick says there is some, tells
// After of each write, and once Output is closed releases it, closes the
// socket after the last bytes and tells Ended, once.
func TestWriteLoop(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	s := New(a)
	o := &fakeOutput{t: t}
	ended := make(chan struct{})
	go func() { defer close(ended); s.WriteLoop(o) }()
	got := make(chan []byte)
	go func() { p, _ := io.ReadAll(b); got <- p }()

	o.push([]byte("one "), false)
	o.push([]byte("two "), false)
	s.Kick()
	o.push([]byte("three"), true)
	s.Kick()
	<-ended
	if p := <-got; string(p) != "one two three" { // ReadAll ended: the writer closed a
		t.Fatalf("peer got %q", p)
	}
	if !o.released || len(o.after) != 3 || o.written.String() != "one two three" || o.ended != 1 {
		t.Fatalf("released %v, After %v, Written %q, Ended %d times", o.released, o.after, o.written.String(), o.ended)
	}
	if s.Inflight() != 0 {
		t.Fatalf("Inflight %d after the writes", s.Inflight())
	}
}

// TestWriteLoopProgress: a buffer bigger than writeChunk going out to a slow
// reader is reported to Wrote chunk by chunk, before Written, and is Inflight
// meanwhile: progress shows while the write lasts (keepalive counts it), and
// adds up to the whole.
func TestWriteLoopProgress(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe() // unbuffered: each chunk waits for the reader
	defer a.Close()
	s := New(a)
	o := &fakeOutput{t: t}
	big := bytes.Repeat([]byte{'x'}, 3*writeChunk+5)
	o.push(big, true)
	ended := make(chan struct{})
	go func() { defer close(ended); s.WriteLoop(o) }()
	s.Kick()
	first := make([]byte, writeChunk)
	if _, err := io.ReadFull(b, first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first chunk's report", func() bool { return o.get(func() bool { return o.wrote >= writeChunk }) })
	o.Lock()
	if o.written.Len() != 0 || s.Inflight() != len(big) {
		t.Errorf("mid-write: Written %d bytes, Inflight %d", o.written.Len(), s.Inflight())
	}
	o.Unlock()
	if _, err := io.ReadFull(b, make([]byte, len(big)-writeChunk)); err != nil {
		t.Fatal(err)
	}
	<-ended
	if o.wrote != len(big) || o.written.Len() != len(big) {
		t.Fatalf("Wrote %d, Written %d, of %d", o.wrote, o.written.Len(), len(big))
	}
}

// A failed write is reported to Written and After with its error.
func TestWriteLoopError(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	b.Close()
	s := New(a)
	o := &fakeOutput{t: t}
	o.push([]byte("lost"), false)
	ended := make(chan struct{})
	go func() { defer close(ended); s.WriteLoop(o) }()
	s.Kick()
	waitFor(t, "the write error", func() bool { return o.get(func() bool { return len(o.after) > 0 }) })
	o.push(nil, true)
	s.Kick()
	<-ended
	if !errors.Is(o.err, io.ErrClosedPipe) || !errors.Is(o.after[0], io.ErrClosedPipe) {
		t.Fatalf("Written's error %v, After's %v", o.err, o.after)
	}
}

// Close closes at once when told to, or when nothing is queued or being
// written; otherwise it leaves the socket to the writer, which closes it
// once the queue is out.
func TestClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		idle, now bool
		closedNow bool
	}{
		{"idle", true, false, true},
		{"now", false, true, true},
		{"queued", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := net.Pipe()
			defer b.Close()
			s := New(a)
			o := &fakeOutput{t: t, closed: true}
			o.Lock()
			s.Close(o, tc.idle, tc.now, time.Minute)
			released := o.released
			o.Unlock()
			if released != tc.closedNow {
				t.Fatalf("released at Close: %v, want %v", released, tc.closedNow)
			}
			if tc.closedNow {
				if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
					t.Fatalf("socket still open after Close: %v", err)
				}
				return
			}
			o.push([]byte("last"), true)
			ended := make(chan struct{})
			go func() { defer close(ended); s.WriteLoop(o) }() // Close kicked it already
			p, _ := io.ReadAll(b)
			<-ended
			if string(p) != "last" || !o.released {
				t.Fatalf("peer got %q, released %v", p, o.released)
			}
		})
	}
}

// Flush writes what is queued on the caller's goroutine and gives the buffer
// back; with nothing queued it does nothing.
func TestFlush(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	s := New(a)
	o := &fakeOutput{t: t}
	s.Flush(o, time.Minute) // nothing queued
	if o.written.Len() != 0 || o.wrote != 0 {
		t.Fatalf("empty Flush wrote %d", o.wrote)
	}
	o.push([]byte("bye"), false)
	got := make(chan []byte)
	go func() { p := make([]byte, 3); io.ReadFull(b, p); got <- p }()
	s.Flush(o, time.Minute)
	if p := <-got; string(p) != "bye" || o.wrote != 3 || o.written.String() != "bye" {
		t.Fatalf("peer got %q, Wrote %d, Written %q", p, o.wrote, o.written.String())
	}
}
