package deflate

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/klauspost/compress/flate"

	"github.com/weir-ws/weir/frame"
)

func TestDecompressLimit(t *testing.T) {
	t.Parallel()
	msg := jsonText(3, 100_000)
	z, err := Compress(nil, msg, 15, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		limit int64
		err   error
	}{
		{int64(len(msg)), nil},
		{int64(len(msg)) + 1, nil},
		{0, nil},  // no limit
		{-1, nil}, // no limit
		{int64(len(msg)) - 1, ErrMessageTooBig},
		{1, ErrMessageTooBig},
	} {
		got, err := Decompress([]byte("keep"), z, tt.limit)
		if err != tt.err {
			t.Fatalf("limit %d: %v, want %v", tt.limit, err, tt.err)
		}
		if err == nil && (string(got[:4]) != "keep" || !bytes.Equal(got[4:], msg)) {
			t.Fatalf("limit %d: wrong output", tt.limit)
		}
		if err != nil && string(got) != "keep" {
			t.Fatalf("limit %d: on error got %q, want dst unchanged", tt.limit, got)
		}
	}
	// The error carries close code 1009 for the engine.
	_, err = Decompress(nil, z, 10)
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != frame.StatusMessageTooBig {
		t.Fatalf("error %v is not a 1009 ProtocolError", err)
	}
}

// bomb returns DEFLATE data that inflates to n zero bytes at about 1032:1, the
// format's limit. Past 1 MiB it repeats the sync-flushed segment for 1 MiB,
// which is cheaper than compressing n bytes.
func bomb(t testing.TB, n int) []byte {
	segment := func(n int) []byte {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestCompression)
		w.Write(make([]byte, n))
		w.Flush()
		return buf.Bytes()
	}
	var z []byte
	if n > 1<<20 {
		z = bytes.Repeat(segment(1<<20), n>>20)
		n &= 1<<20 - 1
	}
	if n > 0 {
		z = append(z, segment(n)...)
	}
	return bytes.TrimSuffix(z, []byte(syncTail))
}

// TestBomb: a compression bomb stops at the limit with 1009, and what it
// costs is bounded by the limit, not by what the bomb would inflate to.
func TestBomb(t *testing.T) {
	small := bomb(t, 1<<20+4<<10) // ~1 KiB inflating past 1 MiB
	if len(small) > 1200 {
		t.Fatalf("bomb is %d bytes", len(small))
	}
	if _, err := Decompress(nil, small, 1<<20); err != ErrMessageTooBig {
		t.Fatalf("1 KiB bomb with a 1 MiB limit: %v", err)
	}
	if out, err := Decompress(nil, small, 2<<20); err != nil || len(out) != 1<<20+4<<10 || bytes.IndexByte(out, 1) >= 0 {
		t.Fatalf("same bomb under a 2 MiB limit: %d bytes, %v", len(out), err)
	}

	big := bomb(t, 1<<30) // ~1 MiB inflating to 1 GiB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := Decompress(nil, big, 1<<20)
	runtime.ReadMemStats(&after)
	if err != ErrMessageTooBig || len(out) != 0 {
		t.Fatalf("1 GiB bomb: %d bytes, %v", len(out), err)
	}
	// Output at most a power of two above the 1 MiB limit, a copy of the
	// 1 MiB input, a decompressor: well under 8 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("1 GiB bomb with a 1 MiB limit allocated %d bytes", alloc)
	}
}

func TestCorrupt(t *testing.T) {
	t.Parallel()
	good, _ := Compress(nil, jsonText(4, 5000), 15, nil)
	tests := []struct {
		name string
		msg  []byte
	}{
		{"reserved block type", []byte{0x07, 0x00}},
		{"stored length mismatch", []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'H'}},
		{"stored block cut short", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 'H', 'e'}},
		{"distance before the start", rfcHelloTakeover},
		{"compressed message cut in half", good[:len(good)/2]},
		{"garbage after a final block", append(append([]byte{}, rfcHelloFinal[:7]...), 0xff, 0xff, 0xff)},
	}
	for _, tt := range tests {
		out, err := Decompress([]byte("x"), tt.msg, 1<<20)
		if err != ErrCorrupt || string(out) != "x" {
			t.Errorf("%s: %q, %v; want ErrCorrupt", tt.name, out, err)
		}
		var pe *frame.ProtocolError
		if !errors.As(err, &pe) || pe.Code != frame.StatusInvalidFramePayloadData {
			t.Errorf("%s: %v is not a 1007 ProtocolError", tt.name, err)
		}
		if _, _, rerr := refInflate(nil, tt.msg, 1<<20); rerr == nil {
			t.Errorf("%s: the reference decoder accepts it", tt.name)
		}
	}
}
