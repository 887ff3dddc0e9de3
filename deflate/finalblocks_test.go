package deflate

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/flate"

	"github.com/weir-ws/weir/frame"
)

// emptyFinal is an empty fixed-Huffman block with BFINAL set: 10 bits.
var emptyFinal = []byte{0x03, 0x00}

// Each final block in a message restarts the inflater with up to 32 KiB of
// history copied in (§7.2.1 lets blocks follow one). A peer that fills a
// message with two-byte empty final blocks after 32 KiB of output made a
// 16 MiB message cost about 4 s of a loop's CPU, with every connection on
// that loop waiting: final blocks are limited to 16 plus one per 4 KiB of
// the compressed message.
func TestDecompressFinalBlockFlood(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(make([]byte, 32<<10))
	w.Close()
	flood := append(b.Bytes(), bytes.Repeat(emptyFinal, 100_000)...)
	_, err := Decompress(nil, flood, 64<<20)
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != frame.StatusPolicyViolation {
		t.Fatalf("100000 final blocks: err %v, want a 1008 ProtocolError", err)
	}

	// Within the limit: 17 final blocks (16 restarts) in a short message,
	// and one per 4 KiB of a long one.
	var few []byte
	for range 17 {
		few = append(few, rfcHelloFinal[:7]...)
	}
	if got, err := Decompress(nil, few, 1<<20); err != nil || string(got) != string(bytes.Repeat([]byte("Hello"), 17)) {
		t.Fatalf("17 final blocks: %q, %v", got, err)
	}
	var long []byte
	block := make([]byte, 4096)
	for i := range block {
		block[i] = byte(i * 7)
	}
	for range 64 {
		var s bytes.Buffer
		w, _ := flate.NewWriter(&s, flate.NoCompression)
		w.Write(block)
		w.Close()
		long = append(long, s.Bytes()...)
	}
	if got, err := Decompress(nil, long, 1<<20); err != nil || len(got) != 64*4096 {
		t.Fatalf("64 stored 4 KiB streams: %d bytes, %v", len(got), err)
	}
	// A sender that finishes a stream per 4 KiB fragment of text that
	// compresses well: few compressed bytes, one restart per 4 KiB of output.
	var text []byte
	for range 64 {
		var s bytes.Buffer
		w, _ := flate.NewWriter(&s, flate.BestCompression)
		w.Write(bytes.Repeat([]byte("weir "), 4096/5))
		w.Close()
		text = append(text, s.Bytes()...)
	}
	if got, err := Decompress(nil, text, 1<<20); err != nil || len(got) != 64*(4096/5)*5 {
		t.Fatalf("64 compressed 4 KiB streams in %d bytes: %d bytes, %v", len(text), len(got), err)
	}
}
