package engine

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// Conn.Stats against the bytes and frames that really crossed the wire: a
// hand-written peer on each side counts them itself.

// statsCounter counts the bytes read through it.
type statsCounter struct {
	r io.Reader
	n atomic.Int64
}

func (s *statsCounter) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n.Add(int64(n))
	return n, err
}

// statsWait waits until cond holds: some counters are added once a write
// returns (MessagesOut; BytesOut in goroutine mode, by the writer goroutine), so
// they may trail what the peer has read already.
func statsWait(t *testing.T, c *Conn, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(cliWait)
	for {
		st := c.Stats()
		if cond(st) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestStatsServer: a server connection's counters match the frames a raw
// client sent and received: the handshake request and the 101 (read and written
// by the engine on its own listener) count as bytes, control frames count as
// frames, not messages, and compressed messages count their wire size.
func TestStatsServer(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1 // no keepalive frames in the counts
		cfg.Compression = &deflate.Options{}
		h := newCliPeer(false)
		_, addr := startServer(t, h, cfg, nil)

		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(cliWait))
		req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" +
			"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		if _, err := io.WriteString(nc, req); err != nil {
			t.Fatal(err)
		}
		cr := &statsCounter{r: nc}
		br := bufio.NewReader(cr)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		if resp.Header.Get("Sec-WebSocket-Extensions") == "" {
			t.Fatal("permessage-deflate not negotiated")
		}
		respLen := cr.n.Load() - int64(br.Buffered())
		rc := &rawClient{t: t, nc: nc, br: br}
		sc := cliRecv(t, h.opened, "server OnOpen")

		// Client to server: 6 messages in 9 frames, a ping among them.
		compressed := jsonish(2000)
		in := []struct {
			frame []byte
			msg   []byte // the message this frame completes, nil for none
		}{
			{frameBytes(true, frame.OpText, 0, nil, true), []byte{}},
			{frameBytes(true, frame.OpText, 0, cliPayload(frame.OpText, 125), true), cliPayload(frame.OpText, 125)},
			{frameBytes(true, frame.OpPing, 0, []byte("abc"), true), nil},
			{frameBytes(true, frame.OpBinary, 0, cliPayload(frame.OpBinary, 126), true), cliPayload(frame.OpBinary, 126)},
			{frameBytes(true, frame.OpBinary, 0, cliPayload(frame.OpBinary, 70000), true), cliPayload(frame.OpBinary, 70000)},
			{frameBytes(false, frame.OpText, 0, []byte("frag"), true), nil},
			{frameBytes(false, frame.OpContinuation, 0, []byte("men"), true), nil},
			{frameBytes(true, frame.OpContinuation, 0, []byte("ted"), true), []byte("fragmented")},
			{frameBytes(true, frame.OpText, frame.Rsv1, mustCompress(t, compressed), true), compressed},
		}
		var wire []byte
		for _, f := range in {
			wire = append(wire, f.frame...)
		}
		rc.write(wire)
		for i, f := range in {
			if f.msg == nil {
				continue
			}
			m := cliRecv(t, h.msgs, "server OnMessage")
			if !bytes.Equal(m.data, f.msg) {
				t.Fatalf("frame %d: server got %d bytes %q, want %q", i, len(m.data), trunc(m.data), trunc(f.msg))
			}
		}
		if hd, p, err := rc.readFrame(); err != nil || hd.Opcode != frame.OpPong || string(p) != "abc" {
			t.Fatalf("pong: %v %q %v", hd.Opcode, p, err)
		}

		// Server to client: 4 messages in 6 frames, a ping among them; the binary
		// message and the prepared one go compressed.
		big := jsonish(70000)
		for _, err := range []error{
			sc.WriteMessage(frame.OpText, []byte("ten bytes!")),
			sc.WriteMessage(frame.OpBinary, big),
			sc.WriteFrame(false, frame.OpText, 0, []byte("ab")),
			sc.Ping([]byte("p")),
			sc.WriteFrame(true, frame.OpContinuation, 0, []byte("cd")),
			sc.WritePrepared(NewPreparedMessage(frame.OpText, jsonish(500))),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		var rsv1 int
		for range 6 {
			hd, _, err := rc.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if hd.Rsv&frame.Rsv1 != 0 {
				rsv1++
			}
		}
		if rsv1 != 2 {
			t.Fatalf("%d compressed frames from the server, want 2", rsv1)
		}
		if br.Buffered() != 0 {
			t.Fatalf("%d bytes more than the frames written", br.Buffered())
		}
		received := cr.n.Load() - respLen

		want := Stats{
			BytesIn:     uint64(len(req) + len(wire)),
			BytesOut:    uint64(respLen + received),
			MessagesIn:  6,
			MessagesOut: 4,
			FramesIn:    9,
			FramesOut:   7, // the pong, then 6
		}
		got := statsWait(t, sc, func(st Stats) bool { return st.BytesOut >= want.BytesOut })
		if got != want {
			t.Fatalf("server Stats\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestStatsClient: a dialled connection's counters match what a raw server sent
// and received, frames that came in the same segment as the 101 included. The
// handshake itself runs on the dialling goroutine, before the Conn exists, and
// is not counted.
func TestStatsClient(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		head []byte // sent right behind the 101
	}{
		{"plain", nil},
		{"frame behind the 101", frameBytes(true, frame.OpText, 0, []byte("early"), false)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.PingInterval = -1
				u, accepted := rawSrv(t, "", tc.head)
				c := cliDial(t, cliClient(t, nil, cfg), u, nil)
				sc := cliRecv(t, accepted, "the client's connection")
				ctx := cliCtx(t)
				var want Stats
				if tc.head != nil {
					if _, p, err := c.ReadMessage(ctx); err != nil || string(p) != "early" {
						t.Fatalf("the frame behind the 101: %q %v", p, err)
					}
					want.BytesIn += uint64(len(tc.head))
					want.FramesIn++
					want.MessagesIn++
				}

				// Server to client: 3 messages in 4 frames, and a ping.
				bin := cliPayload(frame.OpBinary, 300)
				out := [][]byte{
					frameBytes(true, frame.OpText, 0, []byte("hello"), false),
					frameBytes(true, frame.OpBinary, 0, bin, false),
					frameBytes(false, frame.OpBinary, 0, []byte("12"), false),
					frameBytes(true, frame.OpPing, 0, []byte("x"), false),
					frameBytes(true, frame.OpContinuation, 0, []byte("34"), false),
				}
				for _, f := range out {
					sc.write(f)
					want.BytesIn += uint64(len(f))
					want.FramesIn++
				}
				want.MessagesIn += 3
				for _, m := range [][]byte{[]byte("hello"), bin, []byte("1234")} {
					_, p, err := c.ReadMessage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					mustEqual(t, p, m)
				}

				// Client to server: 3 messages in 4 frames, a ping, and the pong.
				for _, err := range []error{
					c.WriteText("abc"),
					c.WriteBinary(cliPayload(frame.OpBinary, 200)),
					c.WriteFrame(false, frame.OpText, 0, []byte("12")),
					c.WriteFrame(true, frame.OpContinuation, 0, []byte("34")),
					c.Ping([]byte("pp")),
				} {
					if err != nil {
						t.Fatal(err)
					}
				}
				want.MessagesOut, want.FramesOut = 3, 6
				var sawPong, sawPing bool
				for range want.FramesOut {
					h, p := sc.readClientFrame()
					want.BytesOut += uint64(frame.HeaderSize(h)) + uint64(len(p))
					switch h.Opcode {
					case frame.OpPong:
						sawPong = string(p) == "x"
					case frame.OpPing:
						sawPing = string(p) == "pp"
					}
				}
				if !sawPong || !sawPing {
					t.Fatalf("pong %v, ping %v", sawPong, sawPing)
				}
				got := statsWait(t, c, func(st Stats) bool { return st.BytesOut >= want.BytesOut })
				if got != want {
					t.Fatalf("client Stats\n got %+v\nwant %+v", got, want)
				}
			})
		})
	}
}

// TestStatsAdoptHead: bytes handed to Adopt as head (what net/http had read past
// the request) are frames of the connection and count as its input.
func TestStatsAdoptHead(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		h := newCliPeer(false)
		s, err := NewServer(h, &cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nc, rc := tcpPairRaw(t)
		head := frameBytes(true, frame.OpText, 0, []byte("in the head"), true)
		sc := s.Adopt(nc, head, nil)
		later := frameBytes(true, frame.OpBinary, 0, []byte("later"), true)
		rc.write(later)
		for _, want := range []string{"in the head", "later"} {
			if m := cliRecv(t, h.msgs, "OnMessage"); string(m.data) != want {
				t.Fatalf("got %q, want %q", m.data, want)
			}
		}
		want := Stats{BytesIn: uint64(len(head) + len(later)), MessagesIn: 2, FramesIn: 2}
		if got := sc.Stats(); got != want {
			t.Fatalf("Stats\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestStatsWeirPair: between weir's client and server, each end's outgoing
// counts are the other end's incoming ones, with fragmentation on both sides.
func TestStatsWeirPair(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		cfg.WriteFragmentSize = 1000
		h := newCliPeer(true)
		_, addr := startServer(t, h, cfg, nil)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
		sc := cliRecv(t, h.opened, "server OnOpen")
		sizes := []int{0, 1, 999, 1000, 1001, 5000}
		frames := 0
		for _, n := range sizes {
			frames += max(1, (n+999)/1000)
			p := cliPayload(frame.OpBinary, n)
			if err := c.WriteBinary(p); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.ReadMessage(cliCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, got, p)
		}
		if err := c.Ping([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		cliRecv(t, h.pings, "server OnPing")
		// The pong: the next echo comes after it.
		if err := c.WriteText("last"); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(cliCtx(t)); err != nil || string(got) != "last" {
			t.Fatalf("last echo %q %v", got, err)
		}
		msgs := uint64(len(sizes) + 1)
		frames += 1 // "last"
		cs := statsWait(t, c, func(st Stats) bool { return st.FramesIn >= uint64(frames+1) })
		// The echo's counters are added once its write returns: the client may
		// have the echo before then.
		ss := statsWait(t, sc, func(st Stats) bool { return st.MessagesOut >= msgs })
		wantC := Stats{MessagesOut: msgs, MessagesIn: msgs, FramesOut: uint64(frames + 1), FramesIn: uint64(frames + 1)}
		cs.BytesIn, cs.BytesOut = 0, 0
		if cs != wantC {
			t.Fatalf("client Stats (bytes aside)\n got %+v\nwant %+v", cs, wantC)
		}
		if ss.MessagesIn != cs.MessagesOut || ss.MessagesOut != cs.MessagesIn ||
			ss.FramesIn != cs.FramesOut || ss.FramesOut != cs.FramesIn {
			t.Fatalf("server Stats %+v do not mirror the client's %+v", ss, cs)
		}
		// The payload bytes (and headers) the client sent all reached the server.
		if ss.BytesIn <= c.Stats().BytesOut {
			t.Fatalf("server read %d bytes, the client wrote %d plus a handshake", ss.BytesIn, c.Stats().BytesOut)
		}
	})
}
