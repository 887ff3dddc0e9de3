package fanout

import (
	"bytes"
	"errors"
	"sync"
	"syscall"
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/prepared"
	"github.com/weir-ws/weir/internal/uring"
)

// receiver is a fake connection: its socket (one end of a socket pair), its
// lock and what happened to its write.
type receiver struct {
	kind                int // direct, queued (not for the ring), refused
	fd, peer            int
	mu                  sync.Mutex
	sent, wrote, failed int
}

const (
	direct = iota
	queued
	refused
)

var errRefused = errors.New("refused")

type fakeOps struct {
	all []*receiver
	t   *testing.T
}

func (fakeOps) Direct(r *receiver, m *prepared.Message) (int, []byte, error) {
	if !r.mu.TryLock() {
		return -1, nil, nil
	}
	switch r.kind {
	case refused:
		r.mu.Unlock()
		return -1, nil, errRefused
	case queued:
		r.mu.Unlock()
		return -1, nil, nil
	}
	return r.fd, m.Frame(), nil
}

func (fakeOps) Sent(r *receiver, f []byte, k int, err error) error {
	r.sent++
	r.mu.Unlock()
	if err == nil && k != len(f) {
		err = errors.New("short send")
	}
	return err
}

func (fakeOps) Write(r *receiver, m *prepared.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrote++
	if r.kind == refused {
		return errRefused
	}
	return nil
}

// Failed checks that no lock of the batch is held: it may take any of them.
func (o fakeOps) Failed(r *receiver, err error) {
	for _, x := range o.all {
		if !x.mu.TryLock() {
			o.t.Errorf("Failed called with a lock held")
			continue
		}
		x.mu.Unlock()
	}
	r.failed++
}

// TestWriteMany: with receivers of every kind, more than a ring's worth of
// them, each direct one gets its frame on its socket through the ring (or,
// without io_uring, through Write), the others through Write; refusals reach
// Failed once no lock is held; the count is of those that took the message.
func TestWriteMany(t *testing.T) {
	var rs []*receiver
	want := 0
	for i := range 150 {
		r := &receiver{kind: [...]int{direct, direct, queued, refused}[i%4], fd: -1, peer: -1}
		if r.kind == direct {
			p, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			r.fd, r.peer = p[0], p[1]
			t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
		}
		if r.kind != refused {
			want++
		}
		rs = append(rs, r)
	}
	m := prepared.New(frame.OpBinary, []byte("fan out"))
	var bs Batches[*receiver, fakeOps]
	ops := fakeOps{all: rs, t: t}
	for round := range 2 { // the second reuses the pooled batch
		if got := bs.WriteMany(ops, rs, m); got != want {
			t.Fatalf("round %d: WriteMany = %d, want %d", round, got, want)
		}
	}
	ring := false
	if r := uring.Get(); r != nil {
		ring = true
		uring.Put(r)
	}
	t.Logf("io_uring: %v", ring)
	buf := make([]byte, 64)
	for i, r := range rs {
		switch r.kind {
		case direct:
			if ring {
				if r.sent != 2 || r.wrote != 0 {
					t.Errorf("%d: sent %d, wrote %d; want 2 sends", i, r.sent, r.wrote)
				}
				n, err := syscall.Read(r.peer, buf)
				if err != nil || !bytes.Equal(buf[:n], append(m.Frame(), m.Frame()...)) {
					t.Errorf("%d: socket got %q, %v", i, buf[:n], err)
				}
			} else if r.wrote != 2 {
				t.Errorf("%d: wrote %d, want 2 (no io_uring)", i, r.wrote)
			}
		case queued:
			if r.wrote != 2 || r.sent != 0 {
				t.Errorf("%d: queued: wrote %d, sent %d", i, r.wrote, r.sent)
			}
		case refused:
			if r.failed+r.wrote != 2 || r.sent != 0 {
				t.Errorf("%d: refused: failed %d, wrote %d, sent %d", i, r.failed, r.wrote, r.sent)
			}
		}
	}
}
