package outq

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestQueueAppendAdvance drives a Queue through appends and partial writes and
// checks its bytes against a plain slice, and that Growth predicted every
// change of the memory it holds.
func TestQueueAppendAdvance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		appends []int // sizes appended, one per step
		takes   []int // bytes the socket takes after each append
	}{
		{"small", []int{10, 10, 10}, []int{0, 5, 25}},
		{"grow", []int{100, 600, 2000}, []int{0, 0, 0}},
		{"compact", []int{400, 100, 300}, []int{350, 0, 100}},
		{"drain in small writes", []int{4000, 10, 10, 10}, []int{1000, 1000, 1000, 1030}},
		{"empty append", []int{0, 5}, []int{0, 5}},
		// Full buffer, a small dead prefix, and room for the append once
		// compacted: compacted in place, not moved to a buffer of the same size
		// (which held both for the copy).
		{"compact below half", []int{8192 - 512, 512, 1000}, []int{0, 2000, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var q Queue
			var want []byte
			b := byte(0)
			for i, n := range tc.appends {
				p := make([]byte, n)
				for j := range p {
					b++
					p[j] = b
				}
				before, live, grow, at := q.Cap(), q.Len(), q.Growth(n), unsafe.SliceData(q.buf)
				q.Append(p)
				if n > 0 {
					if moved := before > 0 && unsafe.SliceData(q.buf) != at; !moved && grow != int64(q.Cap()-before) || moved && grow != int64(q.Cap()) {
						t.Fatalf("step %d: Growth(%d) = %d, the buffer went from %d to %d bytes: want the new buffer whole (the old one is held while the bytes move) or what grew in place", i, n, grow, before, q.Cap())
					}
					if before-live >= n && unsafe.SliceData(q.buf) != at {
						t.Fatalf("step %d: %d live bytes and %d more fit the %d-byte buffer, yet it moved to a %d-byte one", i, live, n, before, q.Cap())
					}
				}
				want = append(want, p...)
				k := min(tc.takes[i], q.Len())
				q.Advance(k)
				want = want[k:]
				if !bytes.Equal(q.Bytes(), want) || q.Len() != len(want) {
					t.Fatalf("step %d: queue holds %d bytes, want %d", i, q.Len(), len(want))
				}
				if q.Len() == 0 && q.Cap() != 0 {
					t.Fatalf("step %d: an empty queue holds %d bytes of buffer", i, q.Cap())
				}
			}
		})
	}
}

func TestQueueTakeRelease(t *testing.T) {
	t.Parallel()
	var q Queue
	q.Append([]byte("hello, world"))
	q.Advance(7)
	at := unsafe.SliceData(q.buf)
	got := q.Take()
	if string(got) != "world" {
		t.Fatalf("Take = %q", got)
	}
	// A partly written queue is compacted in its own buffer, not copied into
	// another: a second buffer would be held, uncounted, while the bytes move.
	if unsafe.SliceData(got) != at {
		t.Errorf("Take moved the queue into another buffer")
	}
	Put(got)
	if q.Len() != 0 || q.Cap() != 0 {
		t.Fatalf("after Take: len %d cap %d", q.Len(), q.Cap())
	}
	if got := q.Take(); len(got) != 0 {
		t.Fatalf("Take of an empty queue = %q", got)
	}
	q.Append([]byte("x"))
	q.Release()
	if q.Len() != 0 || q.Cap() != 0 {
		t.Fatalf("after Release: len %d cap %d", q.Len(), q.Cap())
	}
}

// TestQueueCompactionLinear checks that draining a large queue in small writes
// while appending keeps the buffer at its size (compaction, not growth).
func TestQueueCompactionLinear(t *testing.T) {
	t.Parallel()
	var q Queue
	q.Append(make([]byte, 8000))
	c := q.Cap()
	for range 10000 {
		q.Advance(100)
		q.Append(make([]byte, 100))
	}
	if q.Cap() != c || q.Len() != 8000 {
		t.Fatalf("cap %d (was %d), len %d", q.Cap(), c, q.Len())
	}
}

func TestHeld(t *testing.T) {
	t.Parallel()
	var h Held
	if d := h.Release(); d != nil || h.Cap() != 0 {
		t.Fatal("an empty Held released something")
	}
	h.Hold([]byte{1, 2}, []byte{3})
	h.AddDone(func(error) {})
	h.Hold([]byte{4}, nil)
	if !bytes.Equal(h.Bytes(), []byte{1, 2, 3, 4}) || h.Len() != 4 {
		t.Fatalf("held %v", h.Bytes())
	}
	d := h.Release()
	if len(d) != 1 || d[0].End != 3 {
		t.Fatalf("dones %+v", d)
	}
	if h.Len() != 0 || h.Cap() != 0 {
		t.Fatal("Release kept the buffer")
	}
}

func TestDones(t *testing.T) {
	t.Parallel()
	var d Dones
	if d.Take(100) != nil {
		t.Fatal("Take on nothing")
	}
	calls := 0
	fn := func(error) { calls++ }
	d.Add(10, fn)
	d.Add(20, fn)
	d.Add(Never, fn)
	for _, tc := range []struct {
		flushed int64
		want    int
	}{{5, 0}, {10, 1}, {19, 0}, {1 << 40, 1}} {
		if got := len(d.Take(tc.flushed)); got != tc.want {
			t.Fatalf("Take(%d): %d, want %d", tc.flushed, got, tc.want)
		}
	}
	if all := d.All(); len(all) != 1 || all[0].End != Never {
		t.Fatalf("All: %+v", all)
	}
}

func BenchmarkQueueAppendAdvance(b *testing.B) {
	p := make([]byte, 300)
	var q Queue
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		q.Append(p)
		q.Append(p)
		q.Advance(q.Len() - 100) // the socket takes most of it
	}
}

func BenchmarkQueueGrowth(b *testing.B) {
	var q Queue
	q.Append(make([]byte, 1000))
	b.ReportAllocs()
	for b.Loop() {
		_ = q.Growth(5000)
	}
}
