package deflate

import (
	"bytes"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
)

// syncTail is the empty stored block that ends a sync flush. RFC 7692 §7.2.1
// has the sender remove it from every message, §7.2.2 the receiver put it back.
const syncTail = "\x00\x00\xff\xff"

// inflateTail is what the decompressor appends to a message: the restored
// syncTail, then an empty stored block with BFINAL set. The final block makes
// the inflater stop with io.EOF exactly at the end of the message, which tells
// a complete message from a truncated one without knowing the inflater's
// internal state.
//
// The restored syncTail is LEN and NLEN of a stored block whose header bits
// the sender left in the payload's last octet (§7.2.1 step 3). A payload of
// zero octets, or one that still ends in syncTail, has no such header, and
// the four octets read as a stored block with LEN 0xff00 and a wrong NLEN
// (RFC 1951 §3.2.4): ErrCorrupt, as zlib finds when the stream goes on. The
// empty message is the single octet 0x00 (§7.2.3.6).
const inflateTail = syncTail + "\x01\x00\x00\xff\xff"

// klauspost's fast levels (1 to 6) write a message under 128 bytes as one
// Huffman-only or stored block, without LZ77 matches, whatever the history:
// BenchmarkThreshold shows the same ratio with and without takeover below
// that size. deflateMessage then skips priming the compressor with a history
// it would ignore. Skipping history is always correct, only possibly larger.
const (
	fastSmallInput = 128
	fastLevels     = 6
)

// minOutChunk is the first output allocation when dst has no room.
const minOutChunk = 4 << 10

// deflater is a pooled flate.Writer with the io.Writer it appends through.
type deflater struct {
	fw  *flate.Writer
	out sliceWriter
}

// sliceWriter appends everything written to b, growing it through bufpool.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(bufpool.Grow(w.b, len(p)), p...)
	return len(p), nil
}

// Compressors are shared by all connections: one pool per level for the full
// 32 KiB window, and one per window size below it, whose writers never refer
// further back than 2^bits (flate.NewWriterWindow; klauspost implements it
// with its level 5 encoder whatever the level). A pooled flate.Writer is about
// 0.8 to 1.2 MB; sync.Pool lets the GC reclaim them when compression stops.
var (
	levelPools  [flate.BestCompression + 1]sync.Pool
	windowPools [MaxWindowBits - MinWindowBits]sync.Pool
)

// getDeflater returns a writer for level that refers back no further than
// 2^bits bytes over an input of n bytes (history included), and its pool.
func getDeflater(level, bits, n int) (*deflater, *sync.Pool) {
	// A writer with the full window is safe for a smaller one when the whole
	// input fits in it: no match can reach further back than the input.
	if bits >= MaxWindowBits || n <= 1<<bits {
		p := &levelPools[level]
		if d, ok := p.Get().(*deflater); ok {
			return d, p
		}
		d := new(deflater)
		d.fw, _ = flate.NewWriter(&d.out, level) // level is 1..9: no error
		return d, p
	}
	p := &windowPools[bits-MinWindowBits]
	if d, ok := p.Get().(*deflater); ok {
		return d, p
	}
	d := new(deflater)
	d.fw, _ = flate.NewWriterWindow(&d.out, 1<<bits) // 256..16384: no error
	return d, p
}

// deflateMessage appends to dst the compressed form of msg as one message
// (RFC 7692 §7.2.1): msg deflated after history (the LZ77 window taken over
// from earlier messages; nil for none), sync-flushed, 0x00 0x00 0xff 0xff
// removed. No match refers back further than 2^bits bytes.
func deflateMessage(dst, msg, history []byte, level, bits int) ([]byte, error) {
	if len(msg) < fastSmallInput && level <= fastLevels {
		history = nil // it would cost the priming and change nothing
	}
	d, pool := getDeflater(level, bits, len(history)+len(msg))
	start := len(dst)
	d.out.b = dst
	d.fw.ResetDict(&d.out, history)
	_, err := d.fw.Write(msg)
	if err == nil {
		err = d.fw.Flush()
	}
	out := d.out.b
	d.out.b = nil
	if history != nil {
		d.fw.ResetDict(&d.out, nil) // drop the writer's reference to history
	}
	pool.Put(d)
	if err != nil {
		return out[:start], err
	}
	if len(out)-start < len(syncTail) || string(out[len(out)-len(syncTail):]) != syncTail {
		return out[:start], errSyncTail
	}
	return out[:len(out)-len(syncTail)], nil
}

// inflater is a pooled flate decompressor with the reader it consumes.
type inflater struct {
	r     io.Reader      // the flate.NewReader result
	rs    flate.Resetter // the same value
	br    bytes.Reader   // over a copy of the message plus inflateTail
	probe [1]byte        // one byte of output read when dst is full
}

var inflaterPool sync.Pool

func getInflater() *inflater {
	if f, ok := inflaterPool.Get().(*inflater); ok {
		return f
	}
	f := new(inflater)
	rc := flate.NewReader(&f.br)
	f.r, f.rs = rc, rc.(flate.Resetter)
	return f
}

// inflateMessage appends to dst the decompressed msg (RFC 7692 §7.2.2): msg
// with inflateTail appended, inflated after history. It stops with
// ErrMessageTooBig as soon as the output passes limit bytes (limit <= 0: no
// limit), so it never produces more than limit+1 bytes; output grows in
// bounded steps. On error the returned slice holds dst's contents only.
//
// A block with BFINAL set ends the DEFLATE stream but not the message: §7.2.1
// has the next block follow the padding with the same LZ77 window, so
// inflation restarts there, the output so far added to the history.
//
// With a budget b (nil: none), each growth of dst's capacity is charged to it
// before the bytes are copied: refused, inflation stops with ErrBudget. The
// caller, which charged dst's own capacity, is then charged exactly the
// capacity of the returned slice, whatever the outcome.
func inflateMessage(dst, msg, history []byte, limit int64, b Budget) ([]byte, error) {
	f := getInflater()
	// A bytes.Reader over one contiguous copy gives flate its fastest input
	// path and exact positions; the copy is the compressed size only.
	src := bufpool.Get(len(msg) + len(inflateTail))
	copy(src[copy(src, msg):], inflateTail)
	f.br.Reset(src)
	_ = f.rs.Reset(&f.br, history) // never fails for a reader with ReadByte
	start := len(dst)
	var err error
	restarts := 0
	for {
		var rerr error
		if len(dst) < cap(dst) {
			room := dst[len(dst):cap(dst)]
			if limit > 0 {
				// Never read more than one byte past the limit.
				if left := limit + 1 - int64(len(dst)-start); int64(len(room)) > left {
					room = room[:left]
				}
			}
			var n int
			n, rerr = f.r.Read(room)
			dst = dst[:len(dst)+n]
		} else {
			// dst is full: probe for one more byte before growing it, so
			// output that fits dst exactly costs no allocation.
			var n int
			if n, rerr = f.r.Read(f.probe[:]); n > 0 {
				grown, ok := growOut(dst, start, len(msg), limit, b)
				if !ok {
					err = ErrBudget
					break
				}
				dst = append(grown, f.probe[0])
			}
		}
		if limit > 0 && int64(len(dst)-start) > limit {
			err = ErrMessageTooBig
			break
		}
		if rerr == nil {
			continue
		}
		if rerr != io.EOF {
			err = ErrCorrupt
			break
		}
		pos := len(src) - f.br.Len()
		if pos >= len(msg) {
			break // the final block of inflateTail, or the message's own last one
		}
		if restarts++; restarts > maxRestarts(len(msg), len(dst)-start) {
			err = errFinalBlocks
			break
		}
		restartHistory(f, history, dst[start:])
	}
	f.br.Reset(nil)
	inflaterPool.Put(f)
	bufpool.Put(src)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// errFinalBlocks fails a message with more final blocks than maxRestarts
// allows (1008: a limit, not invalid data).
var errFinalBlocks = &frame.ProtocolError{Code: frame.StatusPolicyViolation, Reason: "too many final DEFLATE blocks in one message"}

// maxRestarts bounds the final blocks followed by more data in a message of
// n compressed bytes that has inflated to out bytes so far: 16, plus one per
// 4 KiB of each. Each costs a restart with up to 32 KiB of history copied: a
// message of two-byte empty final blocks cost some 200 times the CPU per
// input byte of inflating (16 MiB: 4 s of a loop). With the bound the
// copying is at most 8 times the input and the output, and the output is
// bounded by the read limit. §7.2.1 allows final blocks; senders that finish
// a stream per fragment of 4 KiB or more, or a few in a short message, stay
// within.
func maxRestarts(n, out int) int { return 16 + n/4096 + out/4096 }

// restartHistory resets f to continue after a final block: the history is the
// last 32 KiB of what came before the message and what it produced so far.
func restartHistory(f *inflater, history, out []byte) {
	if len(out) >= maxHistory || len(history) == 0 {
		_ = f.rs.Reset(&f.br, out[max(0, len(out)-maxHistory):])
		return
	}
	keep := min(len(history), maxHistory-len(out))
	h := bufpool.Get(keep + len(out))
	copy(h[copy(h, history[len(history)-keep:]):], out)
	_ = f.rs.Reset(&f.br, h) // copies h into the inflater's window
	bufpool.Put(h)
}

// growOut makes room for more output: at first about four times the
// compressed size, then as much again as was produced, never more than the
// limit allows. Under a budget b (nil: none) it only doubles, so that what is
// charged follows what is produced rather than a guess, and the new buffer's
// extra capacity is charged first; refused, dst is returned as it was with
// false.
func growOut(dst []byte, start, compressed int, limit int64, b Budget) ([]byte, bool) {
	n := max(len(dst)-start, 4*compressed, minOutChunk)
	if b != nil {
		n = max(len(dst)-start, minOutChunk)
	}
	if limit > 0 {
		if left := limit + 1 - int64(len(dst)-start); int64(n) > left {
			n = int(left)
		}
	}
	if b == nil {
		return bufpool.Grow(dst, n), true
	}
	nb := bufpool.Get(len(dst) + n)[:len(dst)]
	if !b.Charge(cap(nb) - cap(dst)) {
		bufpool.Put(nb)
		return dst, false
	}
	copy(nb, dst)
	bufpool.Put(dst)
	return nb, true
}
