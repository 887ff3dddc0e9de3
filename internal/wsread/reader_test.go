package wsread

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// enc encodes one frame, masked with a fixed key when masked is set.
func enc(fin bool, op frame.Opcode, rsv uint8, p []byte, masked bool) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(p)), Masked: masked, Mask: [4]byte{0xa1, 0xb2, 0xc3, 0xd4}}
	b := frame.AppendHeader(nil, h)
	off := len(b)
	b = append(b, p...)
	if masked {
		frame.Mask(h.Mask, 0, b[off:])
	}
	return b
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// rec is an event as recorded for comparison (the payload copied).
type rec struct {
	kind       Kind
	fin        bool
	op, msgOp  frame.Opcode
	rsv        uint8
	length     int64
	payload    string
	compressed bool
}

func (r rec) String() string {
	return fmt.Sprintf("%d %v/%v fin=%v rsv=%d len=%d %q c=%v", r.kind, r.op, r.msgOp, r.fin, r.rsv, r.length, r.payload, r.compressed)
}

// run feeds chunks to a fresh Reader and records every event and the error.
// With direct set it also reads into ReadSpace's room, as the engine does.
// It checks the invariants that hold whatever the input: EvNone means the
// chunk was used up; nothing follows a close frame; the buffer stays within a
// small multiple of what arrived; a budget is charged exactly the buffer held,
// and refunded all of it in the end.
func run(t testing.TB, lim *Limits, client, rsv1, direct bool, chunks [][]byte) ([]rec, error) {
	t.Helper()
	var b countBudget
	if lim.Budget == nil {
		l := *lim
		l.Budget = &b
		lim = &l
	}
	var r Reader
	r.Start(lim, client, rsv1)
	defer func() {
		r.Release(lim)
		if n := b.n.Load(); n != 0 {
			t.Fatalf("budget holds %d after Release", n)
		}
	}()
	var out []rec
	closed := false
	for _, ch := range chunks {
		if direct {
			room, err := r.ReadSpace(lim, 4)
			if err != nil {
				return out, err
			}
			if room != nil {
				k := copy(room, ch)
				ch = ch[k:]
				if err := r.Commit(k); err != nil {
					return out, err
				}
				checkBuf(t, &r, lim)
			}
		}
		for {
			ev, n, err := r.Next(lim, ch)
			if n < 0 || n > len(ch) {
				t.Fatalf("Next consumed %d of %d", n, len(ch))
			}
			ch = ch[n:]
			checkBuf(t, &r, lim)
			if err != nil {
				// After an error, everything is dropped.
				if ev, n, err2 := r.Next(lim, []byte{1, 2, 3}); ev.Kind != EvNone || n != 3 || err2 != nil {
					t.Fatalf("after %v: Next = %v, %d, %v", err, ev.Kind, n, err2)
				}
				return out, err
			}
			if ev.Kind == EvNone {
				if len(ch) != 0 {
					t.Fatalf("EvNone with %d bytes left", len(ch))
				}
				break
			}
			if closed {
				t.Fatalf("event %v after the close frame", ev.Kind)
			}
			h := ev.Header
			out = append(out, rec{ev.Kind, h.Fin, h.Opcode, ev.Op, h.Rsv, h.Length, string(ev.Payload), ev.Compressed})
			if ev.Kind == EvFrame && h.Opcode == frame.OpClose {
				closed = true
			}
		}
	}
	return out, nil
}

// checkBuf: a partial payload's buffer never holds much more than what arrived,
// and a budget is charged exactly its capacity.
func checkBuf(t testing.TB, r *Reader, lim *Limits) {
	t.Helper()
	if b, ok := lim.Budget.(*countBudget); ok && b.n.Load() != int64(r.Held()) {
		t.Fatalf("budget charged %d, buffer holds %d", b.n.Load(), r.Held())
	}
	if r.state == stPayload && cap(r.buf) > max(minBuf, 4*len(r.buf)) {
		t.Fatalf("buffer of cap %d for %d bytes arrived (frame of %d)", cap(r.buf), len(r.buf), r.hdr.Length)
	}
}

// splits cuts in into chunks at the given points (sorted, in range).
func splits(in []byte, rng *rand.Rand, n int) [][]byte {
	var out [][]byte
	in = bytes.Clone(in)
	for len(in) > 0 && n > 0 {
		k := rng.IntN(len(in) + 1)
		if rng.IntN(4) == 0 {
			k = min(len(in), rng.IntN(3)) // tiny chunks: cut headers
		}
		out = append(out, in[:k])
		in = in[k:]
		n--
	}
	return append(out, in)
}

func sameRun(a, b []rec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var defLim = Limits{MaxFrameSize: 1 << 20, MaxMessageSize: 1 << 20, MaxFragments: 8}

// TestRules: one table row per rule and limit, fed whole and byte by byte.
func TestRules(t *testing.T) {
	t.Parallel()
	big := make([]byte, 300)
	cases := []struct {
		name         string
		lim          Limits
		client, rsv1 bool
		in           []byte
		frames       int // EvFrame events before the error (or in all)
		err          error
	}{
		{"masked text", defLim, false, false, enc(true, frame.OpText, 0, []byte("hé"), true), 1, nil},
		{"unmasked at a server", defLim, false, false, enc(true, frame.OpText, 0, nil, false), 0, ErrUnmaskedFrame},
		{"masked at a client", defLim, true, false, enc(true, frame.OpText, 0, nil, true), 0, ErrMaskedFrame},
		{"unmasked at a client", defLim, true, false, enc(true, frame.OpBinary, 0, []byte{1}, false), 1, nil},
		{"rsv1 without extension", defLim, false, false, enc(true, frame.OpText, frame.Rsv1, nil, true), 0, ErrUnexpectedRSV},
		{"rsv1 with deflate", defLim, false, true, enc(true, frame.OpText, frame.Rsv1, []byte{0xff}, true), 1, nil},
		{"rsv1 on a continuation", defLim, false, true, cat(enc(false, frame.OpText, frame.Rsv1, nil, true),
			enc(true, frame.OpContinuation, frame.Rsv1, nil, true)), 1, ErrUnexpectedRSV},
		{"rsv1 on a ping", defLim, false, true, enc(true, frame.OpPing, frame.Rsv1, nil, true), 0, ErrUnexpectedRSV},
		{"rsv2 with deflate", defLim, false, true, enc(true, frame.OpBinary, frame.Rsv2, nil, true), 0, ErrUnexpectedRSV},
		{"reserved opcode", defLim, false, false, enc(true, 3, 0, nil, true), 0, frame.ErrReservedOpcode},
		{"fragmented ping", defLim, false, false, enc(false, frame.OpPing, 0, nil, true), 0, frame.ErrFragmentedControl},
		{"ping of 126", defLim, false, false, enc(true, frame.OpPing, 0, big[:126], true), 0, frame.ErrControlTooLong},
		{"length top bit", defLim, false, false, []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 0, frame.ErrLengthOverflow},
		{"2^63-1 declared", defLim, false, false, []byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 0, ErrFrameTooBig},
		{"2^63-1 declared, no limit", Limits{MaxFrameSize: 1<<63 - 1, MaxMessageSize: 1<<63 - 1}, false, false,
			[]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 9}, 0, nil},
		{"continuation without message", defLim, false, false, enc(true, frame.OpContinuation, 0, nil, true), 0, ErrUnexpectedContinuation},
		{"new message inside one", defLim, false, false, cat(enc(false, frame.OpText, 0, nil, true), enc(true, frame.OpBinary, 0, nil, true)), 1, ErrExpectedContinuation},
		{"frame at the frame limit", Limits{MaxFrameSize: 300, MaxMessageSize: 1000}, false, false, enc(true, frame.OpBinary, 0, big, true), 1, nil},
		{"frame over the frame limit", Limits{MaxFrameSize: 299, MaxMessageSize: 1000}, false, false, enc(true, frame.OpBinary, 0, big, true)[:8], 0, ErrFrameTooBig},
		{"message at the limit", Limits{MaxFrameSize: 300, MaxMessageSize: 600}, false, false,
			cat(enc(false, frame.OpBinary, 0, big, true), enc(true, frame.OpContinuation, 0, big, true)), 2, nil},
		{"message over the limit", Limits{MaxFrameSize: 300, MaxMessageSize: 599}, false, false,
			cat(enc(false, frame.OpBinary, 0, big, true), enc(true, frame.OpContinuation, 0, big, true)[:8]), 1, ErrMessageTooBig},
		{"fragments at the cap", Limits{MaxFrameSize: 9, MaxMessageSize: 9, MaxFragments: 3}, false, false,
			cat(enc(false, frame.OpBinary, 0, nil, true), enc(false, frame.OpContinuation, 0, nil, true), enc(true, frame.OpContinuation, 0, nil, true)), 3, nil},
		{"fragments over the cap", Limits{MaxFrameSize: 9, MaxMessageSize: 9, MaxFragments: 3}, false, false,
			cat(enc(false, frame.OpBinary, 0, nil, true), enc(false, frame.OpContinuation, 0, nil, true),
				enc(false, frame.OpContinuation, 0, nil, true), enc(true, frame.OpContinuation, 0, nil, true)), 3, ErrTooManyFragments},
		{"no fragment cap", Limits{MaxFrameSize: 9, MaxMessageSize: 9}, false, false,
			cat(enc(false, frame.OpBinary, 0, nil, true), bytes.Repeat(enc(false, frame.OpContinuation, 0, nil, true), 100), enc(true, frame.OpContinuation, 0, nil, true)), 102, nil},
		{"pings between fragments do not count", Limits{MaxFrameSize: 9, MaxMessageSize: 9, MaxFragments: 2}, false, false,
			cat(enc(false, frame.OpText, 0, []byte("a"), true), enc(true, frame.OpPing, 0, nil, true), enc(true, frame.OpPing, 0, nil, true),
				enc(true, frame.OpContinuation, 0, []byte("b"), true)), 4, nil},
		{"bad utf-8 fails before the frame ends", defLim, false, false, enc(true, frame.OpText, 0, []byte{'a', 0xff, 'b', 'c'}, true)[:8], 0, ErrTextNotUTF8},
		{"utf-8 cut at message end", defLim, false, false, enc(true, frame.OpText, 0, []byte{0xe2, 0x82}, true), 0, ErrTextNotUTF8},
		{"utf-8 across fragments", defLim, false, false, cat(enc(false, frame.OpText, 0, []byte{0xe2}, true), enc(true, frame.OpContinuation, 0, []byte{0x82, 0xac}, true)), 2, nil},
		{"utf-8 skipped", Limits{MaxFrameSize: 9, MaxMessageSize: 9, SkipUTF8: true}, false, false, enc(true, frame.OpText, 0, []byte{0xff}, true), 1, nil},
		{"compressed text not checked", defLim, false, true, enc(true, frame.OpText, frame.Rsv1, []byte{0xff}, true), 1, nil},
		{"bad close payload", defLim, false, false, enc(true, frame.OpClose, 0, []byte{3}, true), 0, frame.ErrInvalidClosePayload},
		{"close reason not utf-8", defLim, false, false, enc(true, frame.OpClose, 0, []byte{3, 0xe8, 0xff}, true), 0, frame.ErrInvalidUTF8},
		{"nothing after close", defLim, false, false, cat(enc(true, frame.OpClose, 0, []byte{3, 0xe8}, true),
			enc(true, frame.OpText, 0, []byte("x"), true), enc(true, frame.OpClose, 0, nil, true), []byte{0xff, 0xff}), 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			whole, err := run(t, &tc.lim, tc.client, tc.rsv1, false, [][]byte{bytes.Clone(tc.in)})
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if len(whole) != tc.frames {
				t.Fatalf("%d frames, want %d: %v", len(whole), tc.frames, whole)
			}
			var bytewise [][]byte
			for _, b := range tc.in {
				bytewise = append(bytewise, []byte{b})
			}
			split, err2 := run(t, &tc.lim, tc.client, tc.rsv1, true, bytewise)
			if err2 != err || !sameRun(whole, split) {
				t.Fatalf("byte by byte: %v %v, whole: %v %v", split, err2, whole, err)
			}
		})
	}
}

// TestGrowsByArrival: a frame declaring 16 MiB with 100 bytes sent holds a
// buffer of about 100 bytes, and one arriving in pieces grows by doubling.
func TestGrowsByArrival(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxFrameSize: 1 << 30, MaxMessageSize: 1 << 30}
	var r Reader
	r.Start(&lim, true, false)
	defer r.Release(&lim)
	hdr := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 16 << 20})
	if _, n, err := r.Next(&lim, append(hdr, make([]byte, 100)...)); err != nil || n != len(hdr)+100 {
		t.Fatalf("Next: %d, %v", n, err)
	}
	if cap(r.buf) > 128 {
		t.Fatalf("buffer cap %d for 100 bytes", cap(r.buf))
	}
	chunk := make([]byte, 1000)
	for got := 100; got < 1<<20; got += len(chunk) {
		r.Next(&lim, chunk)
		checkBuf(t, &r, &lim)
	}
	// Reads straight into the buffer too, until less than a read is missing.
	reads := 0
	for room, _ := r.ReadSpace(&lim, 4096); room != nil; room, _ = r.ReadSpace(&lim, 4096) {
		if err := r.Commit(len(room)); err != nil {
			t.Fatal(err)
		}
		checkBuf(t, &r, &lim)
		reads++
	}
	if reads == 0 {
		t.Fatal("no room offered for a large frame in flight")
	}
	ev, _, err := r.Next(&lim, make([]byte, 16<<20-len(r.buf)))
	if err != nil || ev.Kind != EvFrame || len(ev.Payload) != 16<<20 {
		t.Fatalf("end of the frame: %v %d %v", ev.Kind, len(ev.Payload), err)
	}
}

// TestNextAllocs: whole frames in a chunk are delivered with no allocation.
func TestNextAllocs(t *testing.T) {
	lim := defLim
	var r Reader
	r.Start(&lim, false, false)
	in := cat(enc(true, frame.OpText, 0, []byte("hello"), true), enc(true, frame.OpBinary, 0, make([]byte, 1000), true))
	buf := make([]byte, len(in))
	if n := testing.AllocsPerRun(1000, func() {
		copy(buf, in)
		data := buf
		for {
			ev, n, err := r.Next(&lim, data)
			data = data[n:]
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == EvNone {
				return
			}
		}
	}); n != 0 {
		t.Fatalf("%v allocs per chunk", n)
	}
}

// FuzzSplit: any split of any input, under any limits, gives the events and the
// error of the input in one piece, with or without reads into the reader's own
// buffer.
func FuzzSplit(f *testing.F) {
	m := func(fin bool, op frame.Opcode, rsv uint8, p string) []byte { return enc(fin, op, rsv, []byte(p), true) }
	f.Add(m(true, frame.OpText, 0, "hello"), uint16(100), uint16(200), uint8(3), uint8(0), uint64(1))
	f.Add(cat(m(false, frame.OpText, 0, "frag"), m(true, frame.OpPing, 0, "p"), m(true, frame.OpContinuation, 0, "ment")), uint16(3), uint16(7), uint8(2), uint8(0), uint64(2))
	f.Add(cat(m(true, frame.OpClose, 0, "\x03\xe8bye"), m(true, frame.OpText, 0, "late")), uint16(100), uint16(100), uint8(0), uint8(0), uint64(3))
	f.Add(m(true, frame.OpText, 0, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"), uint16(100), uint16(100), uint8(0), uint8(4), uint64(4))
	f.Add(m(true, frame.OpBinary, frame.Rsv1, "x"), uint16(9), uint16(9), uint8(0), uint8(2), uint64(5))
	f.Add(enc(true, frame.OpBinary, 0, make([]byte, 70000), false), uint16(65535), uint16(65535), uint8(0), uint8(1), uint64(6))
	f.Add([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, uint16(100), uint16(100), uint8(0), uint8(0), uint64(7))
	f.Fuzz(func(t *testing.T, in []byte, maxFrame, maxMsg uint16, maxFrags, flags uint8, seed uint64) {
		lim := Limits{
			MaxFrameSize:   int64(maxFrame),
			MaxMessageSize: int64(maxMsg) + 1,
			MaxFragments:   int64(maxFrags % 8),
			SkipUTF8:       flags&8 != 0,
			Headers:        flags&16 != 0,
		}
		if flags&32 != 0 {
			lim.MaxFrameSize, lim.MaxMessageSize = 1<<63-1, 1<<63-1
		}
		client, rsv1 := flags&1 != 0, flags&2 != 0
		whole, err := run(t, &lim, client, rsv1, false, [][]byte{bytes.Clone(in)})
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		for i := range 4 {
			chunks := splits(in, rng, 1+rng.IntN(8))
			got, err2 := run(t, &lim, client, rsv1, i%2 == 1, chunks)
			if err2 != err || !sameRun(got, whole) {
				t.Fatalf("split %d: %v, %v\nwhole: %v, %v", i, got, err2, whole, err)
			}
		}
	})
}

// BenchmarkNext: parsing a chunk of small masked frames, the echo path's work.
func BenchmarkNext(b *testing.B) {
	lim := defLim
	var r Reader
	r.Start(&lim, false, false)
	in := bytes.Repeat(enc(true, frame.OpBinary, 0, make([]byte, 64), true), 16)
	buf := make([]byte, len(in))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for range b.N {
		copy(buf, in)
		data := buf
		for {
			ev, n, err := r.Next(&lim, data)
			data = data[n:]
			if err != nil {
				b.Fatal(err)
			}
			if ev.Kind == EvNone {
				break
			}
		}
	}
}
