package deflate

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/weir-ws/weir/bufpool"
)

// takeoverModes are the four combinations of context takeover.
var takeoverModes = []struct {
	name string
	p    Params
}{
	{"takeover both", Params{}},
	{"no takeover", Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	{"server takeover only", Params{ClientNoContextTakeover: true}},
	{"client takeover only", Params{ServerNoContextTakeover: true}},
}

// pair is a server and a client Conn that agreed the same Params.
type pair struct{ server, client *Conn }

func newPair(p Params, opts *Options) pair {
	return pair{NewConn(p, true, opts), NewConn(p, false, opts)}
}

func (pr pair) release() { pr.server.Release(); pr.client.Release() }

// send compresses msg on from and decompresses it on to, checking the result;
// it returns the compressed size.
func send(t testing.TB, from, to *Conn, msg []byte) int {
	t.Helper()
	z, err := from.Compress(nil, msg)
	if err != nil {
		t.Fatalf("Compress(%d bytes): %v", len(msg), err)
	}
	got, err := to.Decompress(nil, z, int64(len(msg)))
	if err != nil {
		t.Fatalf("Decompress of %d bytes (%d compressed): %v", len(msg), len(z), err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("round trip of %d bytes changed the data", len(msg))
	}
	return len(z)
}

func TestRoundTripSizes(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 100, 1 << 10, 64 << 10, 1 << 20}
	if long() {
		// 16 MiB each way, twice, under four modes: about two minutes of CPU
		// under -race and nothing the 1 MiB cases and TestBeyondPoolMax miss.
		sizes = append(sizes, 16<<20)
	}
	for _, size := range sizes {
		for _, kind := range []string{"random", "text"} {
			var msg []byte
			if kind == "random" {
				msg = randomBytes(int64(size), size)
			} else {
				msg = jsonText(int64(size), size)
			}
			for _, mode := range takeoverModes {
				if size == 16<<20 && mode.name != "takeover both" && mode.name != "no takeover" {
					continue // the two mixed modes add nothing at this size
				}
				t.Run(fmt.Sprintf("%d/%s/%s", size, kind, mode.name), func(t *testing.T) {
					t.Parallel()
					pr := newPair(mode.p, nil)
					defer pr.release()
					// Twice each way, so the second message runs with the
					// history of the first when takeover is on.
					for i := 0; i < 2; i++ {
						n := send(t, pr.server, pr.client, msg)
						send(t, pr.client, pr.server, msg)
						if kind == "text" && size >= 1<<10 && n >= size/2 {
							t.Fatalf("text of %d bytes compressed to %d", size, n)
						}
					}
				})
			}
		}
	}
}

// TestBeyondPoolMax: a message larger than bufpool's largest class, whose
// compressed and decompressed buffers are plain allocations that Put drops
// (incompressible, so the compressed form is larger still). One direction is
// enough: Compress and Decompress take the same path both ways.
func TestBeyondPoolMax(t *testing.T) {
	t.Parallel()
	msg := randomBytes(16, bufpool.MaxSize+1000)
	pr := newPair(Params{}, nil)
	defer pr.release()
	if n := send(t, pr.client, pr.server, msg); n <= bufpool.MaxSize {
		t.Fatalf("%d random bytes compressed to %d, not past bufpool.MaxSize", len(msg), n)
	}
}

// TestSequenceWithReference sends many messages of mixed sizes and kinds, some
// uncompressed, in both directions and under every takeover mode and several
// window sizes, and checks each compressed message with the reference decoder
// given the history the RFC says the peer holds: the output must match and no
// match may reach further back than the negotiated window.
func TestSequenceWithReference(t *testing.T) {
	t.Parallel()
	windows := []struct{ server, client int }{{15, 15}, {8, 9}, {10, 12}, {13, 8}}
	for _, mode := range takeoverModes {
		for _, w := range windows {
			p := mode.p
			p.ServerMaxWindowBits, p.ClientMaxWindowBits = w.server, w.client
			t.Run(fmt.Sprintf("%s/%d-%d", mode.name, w.server, w.client), func(t *testing.T) {
				t.Parallel()
				pr := newPair(p, &Options{HistorySize: maxHistory})
				defer pr.release()
				var models [2][]byte // plaintext history each receiver holds: 0 client, 1 server
				for i := 0; i < 120; i++ {
					size := []int{0, 5, 130, 300, 1000, 5000, 40000, 70000}[i%8]
					var msg []byte
					if i%3 == 0 {
						msg = randomBytes(int64(i), size)
					} else {
						msg = jsonText(int64(i/2), size) // repeats earlier messages: tempts far matches
					}
					dir := i % 2 // 0: server to client
					from, to := pr.server, pr.client
					bits, takeover := p.ServerWindowBits(), !p.ServerNoContextTakeover
					if dir == 1 {
						from, to = pr.client, pr.server
						bits, takeover = p.ClientWindowBits(), !p.ClientNoContextTakeover
					}
					if i%7 == 3 {
						continue // sent uncompressed: neither side's history moves
					}
					z, err := from.Compress(nil, msg)
					if err != nil {
						t.Fatal(err)
					}
					var hist []byte
					if takeover {
						hist = models[dir]
					}
					ref, dist, err := refInflate(hist, z, len(msg))
					if err != nil || !bytes.Equal(ref, msg) {
						t.Fatalf("message %d (%d bytes): reference decoder: %v", i, len(msg), err)
					}
					if dist > 1<<bits {
						t.Fatalf("message %d (%d bytes): match distance %d beyond the %d-bit window", i, len(msg), dist, bits)
					}
					got, err := to.Decompress(nil, z, int64(len(msg)))
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("message %d (%d bytes): Decompress: %v", i, len(msg), err)
					}
					if takeover {
						models[dir] = append(models[dir], msg...)
						models[dir] = models[dir][max(0, len(models[dir])-maxHistory):]
					}
				}
			})
		}
	}
}

// TestWindowBitsHonoured feeds every window size data that repeats with a
// period just past the window, the case where a full-window compressor would
// reach too far back.
func TestWindowBitsHonoured(t *testing.T) {
	t.Parallel()
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		period := randomBytes(int64(bits), 1<<bits+37)
		msg := bytes.Repeat(period, max(3, (96<<10)/len(period)))
		for _, takeover := range []bool{true, false} {
			p := Params{ServerMaxWindowBits: bits, ServerNoContextTakeover: !takeover}
			c := NewConn(p, true, &Options{HistorySize: maxHistory})
			var hist []byte
			for i := 0; i < 3; i++ {
				m := msg[:len(msg)-i*100]
				z, err := c.Compress(nil, m)
				if err != nil {
					t.Fatal(err)
				}
				ref, dist, err := refInflate(hist, z, len(m))
				if err != nil || !bytes.Equal(ref, m) {
					t.Fatalf("bits %d takeover %v message %d: %v", bits, takeover, i, err)
				}
				if dist > 1<<bits {
					t.Fatalf("bits %d takeover %v message %d: distance %d", bits, takeover, i, dist)
				}
				if takeover {
					hist = append(hist, m...)
				}
			}
			c.Release()
			// The prepared-message path keeps to the window too.
			z, err := Compress(nil, msg, bits, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ref, dist, err := refInflate(nil, z, len(msg)); err != nil || !bytes.Equal(ref, msg) || dist > 1<<bits {
				t.Fatalf("Compress bits %d: distance %d, %v", bits, dist, err)
			}
		}
	}
}

// TestFragmented: the engine concatenates the frame payloads of a message
// before Decompress, so a message split anywhere decodes; and a peer that
// flushes per fragment (a streaming compressor) sends several sync-flushed
// segments in one message, which decode as one.
func TestFragmented(t *testing.T) {
	t.Parallel()
	msg := jsonText(7, 200<<10)
	c := NewConn(Params{}, true, nil)
	defer c.Release()
	z, err := c.Compress(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 125, 4096, len(z)} {
		got, err := Decompress(nil, concat(splitEvery(z, n)), 1<<30)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("frames of %d bytes: %v", n, err)
		}
	}

	// A streaming peer: one sync flush per 16 KiB of input, the last flush's
	// tail removed (RFC 7692 §7.2.1), followed by a second message that
	// refers back into the first.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 5)
	var stream [][]byte
	for _, part := range [][]byte{msg, msg[:50<<10]} {
		buf.Reset()
		for _, frag := range splitEvery(part, 16<<10) {
			w.Write(frag)
			w.Flush()
		}
		stream = append(stream, bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte(syncTail))))
	}
	peer := NewConn(Params{}, false, nil)
	defer peer.Release()
	for i, m := range stream {
		want := msg
		if i == 1 {
			want = msg[:50<<10]
		}
		got, err := peer.Decompress(nil, m, 1<<30)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("streamed message %d: %v", i, err)
		}
	}
}
