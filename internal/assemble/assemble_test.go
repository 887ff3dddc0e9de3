package assemble

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsread"
)

// TestAppend: fragments of any sizes assemble into the message; the budget
// is charged exactly the buffer's capacity while it is held, a refused
// growth leaves nothing held or charged, and Put refunds it all.
func TestAppend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		sizes []int
		max   int64
		ok    bool
	}{
		{"one", []int{10}, 0, true},
		{"many small", []int{1, 0, 3, 5, 0, 7, 1, 1, 2}, 0, true},
		{"growing", []int{100, 1000, 10000, 100000}, 0, true},
		{"within", []int{1000, 1000, 1000}, 1 << 20, true},
		{"over at once", []int{4096}, 1000, false},
		{"over later", []int{500, 500, 5000}, 4096, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tot := &wsread.Total{Max: tc.max}
			var msg, want []byte
			ok := true
			for i, n := range tc.sizes {
				p := bytes.Repeat([]byte{byte(i + 'a')}, n)
				want = append(want, p...)
				if ok = Append(&msg, p, i == len(tc.sizes)-1, tot); !ok {
					break
				}
				if got := tot.Load(); got != int64(cap(msg)) {
					t.Fatalf("frame %d: charged %d, holding %d", i, got, cap(msg))
				}
			}
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if msg != nil || tot.Load() != 0 {
					t.Fatalf("refused: msg %d bytes, %d charged", len(msg), tot.Load())
				}
				return
			}
			if !bytes.Equal(msg, want) {
				t.Fatalf("assembled %d bytes, want %d", len(msg), len(want))
			}
			Put(tot, msg)
			if tot.Load() != 0 {
				t.Fatalf("%d left charged after Put", tot.Load())
			}
		})
	}
}

// TestInflate: a compressed message inflates within its limit; past the
// limit it fails with 1009; text that is not UTF-8 once inflated fails with
// ErrTextNotUTF8 unless skipped.
func TestInflate(t *testing.T) {
	t.Parallel()
	d := deflate.NewConn(deflate.Params{}, true, &deflate.Options{})
	defer d.Release()
	compress := func(p []byte) []byte {
		out, err := deflate.Compress(nil, p, 15, &deflate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	text := bytes.Repeat([]byte("héllo "), 1000)
	bad := append(bytes.Repeat([]byte("a"), 100), 0xff)
	noise := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	for _, tc := range []struct {
		name  string
		op    frame.Opcode
		p     []byte
		limit int64
		skip  bool
		err   error
	}{
		{"text", frame.OpText, text, 1 << 20, false, nil},
		{"binary", frame.OpBinary, bad, 1 << 20, false, nil},
		{"bad text", frame.OpText, bad, 1 << 20, false, wsread.ErrTextNotUTF8},
		{"bad text skipped", frame.OpText, bad, 1 << 20, true, nil},
		{"over the limit", frame.OpBinary, text, 100, false, nil},
		{"incompressible", frame.OpBinary, noise, 16 << 20, false, nil},
	} {
		msg, err := Inflate(d, tc.op, compress(tc.p), tc.limit, tc.skip, nil)
		switch {
		case tc.limit < int64(len(tc.p)):
			if frameCode(err) != frame.StatusMessageTooBig {
				t.Errorf("%s: err %v, want 1009", tc.name, err)
			}
		case !errors.Is(err, tc.err):
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		case err == nil && !bytes.Equal(msg, tc.p):
			t.Errorf("%s: inflated %d bytes, want %d", tc.name, len(msg), len(tc.p))
		case err == nil && cap(msg) > max(64<<10, 2*len(msg)):
			// The caller charges the capacity to the inbound budget: it
			// was 8 MiB for 1 MiB of noise (four times the input, rounded up).
			t.Errorf("%s: %d bytes inflated into a buffer of %d", tc.name, len(msg), cap(msg))
		}
	}
}

func frameCode(err error) frame.StatusCode {
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

// TestCompressed: a compressed message in one frame or many inflates to what
// was compressed; the collected frames are charged while held and refunded
// once inflated (or on an inflation error), the inflated message charged in
// their place until Put; a collection, or an inflated message, over the
// budget is ErrBudget with nothing left held.
func TestCompressed(t *testing.T) {
	t.Parallel()
	d := deflate.NewConn(deflate.Params{}, true, &deflate.Options{})
	defer d.Release()
	text := bytes.Repeat([]byte("héllo wörld "), 500)
	z, err := deflate.Compress(nil, text, 15, &deflate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		splits int // frames
		max    int64
		limit  int64
		err    error
	}{
		{"one frame", 1, 0, 1 << 20, nil},
		{"three frames", 3, 0, 1 << 20, nil},
		{"many frames", 17, 1 << 20, 1 << 20, nil},
		{"over the budget", 5, 16, 1 << 20, wsread.ErrBudget},
		{"inflated over the budget", 1, int64(len(text)) - 1, 1 << 20, wsread.ErrBudget},
		{"bomb", 3, 0, 100, nil}, // 1009, checked below
	} {
		tot := &wsread.Total{Max: tc.max}
		var msg, out []byte
		var ready bool
		var err error
		step := (len(z) + tc.splits - 1) / tc.splits
		for i := 0; i < len(z); i += step {
			end := min(i+step, len(z))
			out, ready, err = Compressed(&msg, z[i:end], end == len(z), tot, d, frame.OpText, tc.limit, false)
			if err != nil || ready {
				break
			}
			if tot.Load() != int64(cap(msg)) {
				t.Fatalf("%s: charged %d, holding %d", tc.name, tot.Load(), cap(msg))
			}
		}
		if ready {
			if tot.Load() != int64(cap(out)) {
				t.Fatalf("%s: inflated message holding %d, charged %d", tc.name, cap(out), tot.Load())
			}
		} else if tot.Load() != 0 {
			t.Fatalf("%s: %d charged with no message ready", tc.name, tot.Load())
		}
		if msg != nil {
			t.Fatalf("%s: left %d bytes of frames held", tc.name, cap(msg))
		}
		switch {
		case tc.limit < int64(len(text)):
			if frameCode(err) != frame.StatusMessageTooBig || ready {
				t.Errorf("%s: err %v ready %v, want 1009", tc.name, err, ready)
			}
		case !errors.Is(err, tc.err) || (tc.err == nil) != ready:
			t.Errorf("%s: err %v ready %v, want %v", tc.name, err, ready, tc.err)
		case ready && !bytes.Equal(out, text):
			t.Errorf("%s: inflated %d bytes, want %d", tc.name, len(out), len(text))
		}
		if ready {
			Put(tot, out)
			if tot.Load() != 0 {
				t.Errorf("%s: %d charged after Put", tc.name, tot.Load())
			}
		}
	}
}
