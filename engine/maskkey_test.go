package engine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wswrite"
	"github.com/weir-ws/weir/upgrade"
)

// The default masking-key generator (maskkey.go) as seen on the wire: a
// hand-written server reads the client's frames byte for byte.

// rawSrvConn is the server end of one connection accepted by rawSrv, after its
// 101: the embedded rawClient reads the client's frames (readFrame leaves them
// masked) and writes server frames.
type rawSrvConn struct {
	*rawClient
	req     *http.Request
	respLen int // bytes of the 101 answer, head excluded
}

// rawSrv listens on 127.0.0.1 and answers every WebSocket request with a 101
// carrying extra header lines (each ending in CRLF), followed in the same write
// by head (frames the client finds right behind the handshake). Connections are
// closed when the test ends.
func rawSrv(t *testing.T, extra string, head []byte) (string, <-chan *rawSrvConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *rawSrvConn, 16)
	done := make(chan struct{})
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			nc.SetDeadline(time.Now().Add(cliWait))
			br := bufio.NewReader(nc)
			req, err := http.ReadRequest(br)
			if err != nil {
				nc.Close()
				continue
			}
			resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				upgrade.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"
			if _, err := nc.Write(append([]byte(resp), head...)); err != nil {
				nc.Close()
				continue
			}
			select {
			case ch <- &rawSrvConn{rawClient: &rawClient{t: t, nc: nc, br: br}, req: req, respLen: len(resp)}:
			case <-done:
				return
			}
		}
	}()
	return "ws://" + ln.Addr().String() + "/", ch
}

// readClientFrame reads one client frame, checks that it is masked (RFC 6455
// §5.1) and returns its header and unmasked payload.
func (sc *rawSrvConn) readClientFrame() (frame.Header, []byte) {
	sc.t.Helper()
	h, p, err := sc.readFrame()
	if err != nil {
		sc.t.Fatalf("reading a client frame: %v", err)
	}
	if !h.Masked {
		sc.t.Fatalf("client frame %v of %d bytes is not masked", h.Opcode, h.Length)
	}
	frame.Mask(h.Mask, 0, p)
	return h, p
}

// maskKeyStats checks keys for what a fresh, unpredictable key per frame looks
// like. The bounds are many standard deviations wide: a healthy generator never
// trips them, a constant, counting or zero generator always does.
func maskKeyStats(t *testing.T, keys [][4]byte) {
	t.Helper()
	n := len(keys)
	distinct := map[[4]byte]bool{}
	zero, ones := 0, 0
	var perByte [4]map[byte]bool
	for i := range perByte {
		perByte[i] = map[byte]bool{}
	}
	for _, k := range keys {
		distinct[k] = true
		if k == [4]byte{} {
			zero++
		}
		for i, b := range k {
			perByte[i][b] = true
			ones += bits.OnesCount8(b)
		}
	}
	// 1000 random 32-bit keys collide with probability about 1e-4: 10 repeats
	// do not happen.
	if len(distinct) < n-n/100 {
		t.Errorf("%d distinct keys in %d frames", len(distinct), n)
	}
	if zero > 1 {
		t.Errorf("%d all-zero keys in %d frames", zero, n)
	}
	// Consecutive keys are unrelated: their differences repeat no more than the
	// keys do (a counter, whatever its step, has one difference).
	deltas := map[uint32]bool{}
	for i := 1; i < n; i++ {
		deltas[binary.LittleEndian.Uint32(keys[i][:])-binary.LittleEndian.Uint32(keys[i-1][:])] = true
	}
	if n > 1 && len(deltas) < (n-1)-(n-1)/100 {
		t.Errorf("%d distinct differences between %d consecutive keys", len(deltas), n-1)
	}
	// 1000 draws of a byte hit about 251 of the 256 values.
	for i, m := range perByte {
		if n >= 1000 && len(m) < 200 {
			t.Errorf("key byte %d took only %d distinct values in %d frames", i, len(m), n)
		}
	}
	// Half the bits set, give or take far more than chance allows (sd = sqrt(32n)/2).
	if total := 32 * n; ones < total*45/100 || ones > total*55/100 {
		t.Errorf("%d of %d key bits set", ones, total)
	}
	// Keys must not come from a generator with a fixed seed: the first outputs of a
	// zero-seeded ChaCha8 (what forgetting the crypto/rand seed gives) must not show up.
	predictable := map[[4]byte]bool{}
	g := rand.NewChaCha8([32]byte{})
	for range 4 * n {
		v := g.Uint64()
		predictable[[4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}] = true
	}
	hits := 0
	for _, k := range keys {
		if predictable[k] {
			hits++
		}
	}
	if hits > 5 {
		t.Errorf("%d of %d keys are outputs of a zero-seeded generator", hits, n)
	}
}

// TestMaskKeyDefaultOnWire: every client frame carries its own key (no MaskKey
// hook), the payload unmasks with it, and 1000 keys look random.
func TestMaskKeyDefaultOnWire(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		u, accepted := rawSrv(t, "", nil)
		c := cliDial(t, cliClient(t, nil, cfg), u, nil)
		sc := cliRecv(t, accepted, "the client's connection")
		const n = 1000
		// 14 bytes a frame: all of them fit in the socket buffers, so the writes
		// finish before anything is read.
		for i := range n {
			var p [8]byte
			binary.BigEndian.PutUint64(p[:], uint64(i))
			if err := c.WriteBinary(p[:]); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		keys := make([][4]byte, 0, n)
		for i := range n {
			h, p := sc.readClientFrame()
			if h.Opcode != frame.OpBinary || !h.Fin || len(p) != 8 || binary.BigEndian.Uint64(p) != uint64(i) {
				t.Fatalf("frame %d: %v fin=%v, unmasks to % x", i, h.Opcode, h.Fin, p)
			}
			keys = append(keys, h.Mask)
		}
		maskKeyStats(t, keys)
	})
}

// TestMaskKeyPerFragment: the frames of one fragmented message
// (Config.WriteFragmentSize) and control frames each get a fresh key.
func TestMaskKeyPerFragment(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.WriteFragmentSize = 4
		u, accepted := rawSrv(t, "", nil)
		c := cliDial(t, cliClient(t, nil, cfg), u, nil)
		sc := cliRecv(t, accepted, "the client's connection")
		msg := []byte("forty bytes of text cut in ten fragments")
		if err := c.WriteMessage(frame.OpText, msg); err != nil {
			t.Fatal(err)
		}
		if err := c.Ping([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		seen := map[[4]byte]int{}
		var got []byte
		for i := 0; ; i++ {
			h, p := sc.readClientFrame()
			if prev, dup := seen[h.Mask]; dup {
				t.Fatalf("frame %d reuses the key % x of frame %d", i, h.Mask, prev)
			}
			seen[h.Mask] = i
			if h.Opcode == frame.OpPing {
				if string(p) != "ping" {
					t.Fatalf("ping unmasks to %q", p)
				}
				break
			}
			got = append(got, p...)
		}
		if len(seen) != 11 {
			t.Fatalf("%d frames, want 10 fragments and a ping", len(seen))
		}
		mustEqual(t, got, msg)
	})
}

// TestMaskKeyConcurrent draws keys from many connections at once (the generators
// are pooled): under -race this checks the pool, and the keys must not repeat
// across connections.
func TestMaskKeyConcurrent(t *testing.T) {
	t.Parallel()
	const workers, per = 8, 1000
	out := make([][][4]byte, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				out[w] = append(out[w], wswrite.MaskKey())
			}
		}()
	}
	wg.Wait()
	var all [][4]byte
	for w := range out {
		maskKeyStats(t, out[w])
		all = append(all, out[w]...)
	}
	distinct := map[[4]byte]bool{}
	for _, k := range all {
		distinct[k] = true
	}
	if len(distinct) < len(all)-len(all)/100 {
		t.Errorf("%d distinct keys of %d across %d connections", len(distinct), len(all), workers)
	}
}

var maskSink [4]byte

// BenchmarkNextMask: one key per client frame, from a pooled generator (no
// syscall, no allocation).
func BenchmarkNextMask(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		maskSink = wswrite.MaskKey()
	}
}

// ---------------------------------------------------------------------------
// WritePrepared: one encoding for many server connections; on a client
// connection every send is masked with a fresh key, and the prepared payload is
// never masked in place.

// TestWritePreparedClient: a client's prepared sends reach weir's server (which
// fails unmasked client frames with 1002) intact, on several connections and
// several times, and leave the message untouched.
func TestWritePreparedClient(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, newCliPeer(true), cfg, nil)
		cl := cliClient(t, nil, cfg)
		for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
			for _, n := range cliSizes {
				payload := cliPayload(op, n)
				pm := NewPreparedMessage(op, payload)
				conns := []*Conn{cliDial(t, cl, "ws://"+addr+"/", nil), cliDial(t, cl, "ws://"+addr+"/", nil)}
				for round := range 2 {
					for i, c := range conns {
						if err := c.WritePrepared(pm); err != nil {
							t.Fatalf("%v %d, conn %d round %d: %v", op, n, i, round, err)
						}
						gop, got, err := c.ReadMessage(cliCtx(t))
						if err != nil {
							t.Fatalf("%v %d, conn %d round %d: echo: %v", op, n, i, round, err)
						}
						if gop != op {
							t.Fatalf("%v %d: echo is %v", op, n, gop)
						}
						mustEqual(t, got, payload)
						mustEqual(t, pm.Payload(), payload)
					}
				}
				for _, c := range conns {
					if st := c.Stats(); st.MessagesOut != 2 || st.FramesOut != 2 {
						t.Fatalf("Stats after 2 prepared sends: %+v", st)
					}
					c.Close(frame.StatusNormalClosure, "")
				}
			}
		}
	})
}

// TestWritePreparedClientWire: on the wire, a client's prepared frame is masked,
// with a new key each time, and unmasks to the payload.
func TestWritePreparedClientWire(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		u, accepted := rawSrv(t, "", nil)
		c := cliDial(t, cliClient(t, nil, cfg), u, nil)
		sc := cliRecv(t, accepted, "the client's connection")
		payload := []byte("prepared once, masked every time")
		pm := NewPreparedMessage(frame.OpText, payload)
		const n = 50
		for range n {
			if err := c.WritePrepared(pm); err != nil {
				t.Fatal(err)
			}
		}
		keys := map[[4]byte]bool{}
		for i := range n {
			h, p := sc.readClientFrame() // fails on an unmasked frame
			if !h.Fin || h.Opcode != frame.OpText {
				t.Fatalf("frame %d: fin=%v %v", i, h.Fin, h.Opcode)
			}
			mustEqual(t, p, payload)
			keys[h.Mask] = true
		}
		if len(keys) < n-1 {
			t.Fatalf("%d distinct keys in %d prepared sends", len(keys), n)
		}
		mustEqual(t, pm.Payload(), payload)
	})
}

// TestWritePreparedClientNode: Node's ws server closes with 1002 on an unmasked
// client frame; prepared sends must come back as echoes.
func TestWritePreparedClientNode(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+n.addr+"/echo", nil)
	for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
		for _, size := range cliSizes {
			payload := cliPayload(op, size)
			pm := NewPreparedMessage(op, payload)
			for range 2 {
				if err := c.WritePrepared(pm); err != nil {
					t.Fatal(err)
				}
				gop, got, err := c.ReadMessage(cliCtx(t))
				if err != nil {
					t.Fatalf("%v %d: %v", op, size, err)
				}
				if gop != op {
					t.Fatalf("%v %d: echo is %v", op, size, gop)
				}
				mustEqual(t, got, payload)
			}
		}
	}
	cliCloseRead(t, c)
}

// TestWritePreparedServer: on server connections the prepared frame goes out as
// encoded once: unmasked, the same bytes on every connection; after Close it is
// refused with ErrClosed.
func TestWritePreparedServer(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newCliPeer(false)
		_, addr := startServer(t, h, cfg, nil)
		rcs := []*rawClient{dialRaw(t, addr), dialRaw(t, addr)}
		conns := []*Conn{cliRecv(t, h.opened, "OnOpen"), cliRecv(t, h.opened, "OnOpen")}
		for _, n := range cliSizes {
			payload := cliPayload(frame.OpBinary, n)
			pm := NewPreparedMessage(frame.OpBinary, payload)
			want := frameBytes(true, frame.OpBinary, 0, payload, false)
			for _, c := range conns {
				if err := c.WritePrepared(pm); err != nil {
					t.Fatal(err)
				}
			}
			// Which client belongs to which Conn does not matter: each gets one frame.
			for i, rc := range rcs {
				got := make([]byte, len(want))
				if _, err := io.ReadFull(rc.br, got); err != nil {
					t.Fatalf("size %d, client %d: %v", n, i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("size %d, client %d: wire % x..., want % x...", n, i, got[:min(16, len(got))], want[:min(16, len(want))])
				}
			}
			mustEqual(t, pm.Payload(), payload)
		}
		for _, c := range conns {
			c.Close(frame.StatusNormalClosure, "")
			if err := c.WritePrepared(NewPreparedMessage(frame.OpText, []byte("late"))); !errors.Is(err, ErrClosed) {
				t.Fatalf("WritePrepared after Close = %v, want ErrClosed", err)
			}
		}
	})
}
