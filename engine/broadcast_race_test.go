package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// TestBroadcastWhileClosing: two goroutines broadcast prepared messages (one
// through Server.Broadcast, one through WritePreparedMany) to many
// connections at once, and a third writes each its own messages, plain and compressed (context takeover on, and off
// with a small window), some reading only at the end, while another goroutine
// closes some of them (Close, CloseNow, Abort). Every reader gets each
// broadcaster's messages byte for byte, in order and with no gap up to its
// end; a compressed one inflates each with its own history (a prepared frame
// is compressed once per window size and shared: RFC 7692 §7.2.1 needs the
// history advanced exactly as the peer's). The prepared bytes are never
// changed under the writers.
func TestBroadcastWhileClosing(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		const conns, msgs = 30, bcastMsgs
		cfg.Compression = &deflate.Options{Threshold: 32}
		cfg.MaxWriteBuffer = 16 << 20 // no refusals: every open reader gets everything
		cfg.PingInterval = -1
		h := &openedHandler{opened: make(chan *Conn, conns)}
		s, addr := startServer(t, h, cfg, nil)
		offers := []string{"", "Sec-WebSocket-Extensions: permessage-deflate",
			"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=9"}
		readers := make([]*bcastReader, conns)
		for i := range readers {
			var ext []string
			if o := offers[i%len(offers)]; o != "" {
				ext = append(ext, o)
			}
			rc, resp := dialRawResp(t, addr, ext...)
			readers[i] = newBcastReader(t, rc, resp.Header.Get("Sec-WebSocket-Extensions"), i%4 == 3)
		}
		all := make([]*Conn, conns)
		for i := range all {
			select {
			case all[i] = <-h.opened:
			case <-time.After(10 * time.Second):
				t.Fatal("no OnOpen")
			}
		}
		for _, r := range readers {
			if !r.slow {
				go r.run()
			}
		}
		pms := [2][]*PreparedMessage{}
		for b := range pms {
			for k := range msgs {
				pms[b] = append(pms[b], NewPreparedMessage(frame.OpBinary, bcastPayload(b, k)))
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for _, pm := range pms[0] {
				s.Broadcast(pm, nil)
			}
		})
		wg.Go(func() {
			for _, pm := range pms[1] {
				WritePreparedMany(all, pm)
			}
		})
		wg.Go(func() { // each connection's own messages, compressed after the broadcasts' history
			for k := range msgs {
				for _, c := range all {
					c.WriteMessage(frame.OpBinary, bcastPayload(2, k))
				}
			}
		})
		wg.Go(func() { // closes some, mid-broadcast
			for i, c := range all {
				if i%5 != 1 {
					continue
				}
				time.Sleep(time.Millisecond)
				switch i % 3 {
				case 0:
					c.Close(frame.StatusGoingAway, "")
				case 1:
					c.CloseNow(frame.StatusGoingAway, "")
				default:
					c.Abort()
				}
			}
		})
		wg.Wait()
		s.Broadcast(NewPreparedMessage(frame.OpText, []byte("end")), nil)
		for _, r := range readers {
			if r.slow {
				go r.run()
			}
		}
		ended, closed := 0, 0
		for i, r := range readers {
			r.wait(t)
			if r.ended {
				ended++
			}
			if i%5 == 1 {
				closed++
			}
		}
		if ended < conns-closed {
			t.Errorf("%d readers got the end message, want at least %d", ended, conns-closed)
		}
		for b := range pms {
			for k, pm := range pms[b] {
				want := bcastPayload(b, k)
				if !bytes.Equal(pm.Payload(), want) || !bytes.Equal(pm.m.Frame()[len(pm.m.Frame())-len(want):], want) {
					t.Fatalf("prepared message %d/%d changed under the writers", b, k)
				}
			}
		}
	})
}

// bcastMsgs is how many messages each writer of TestBroadcastWhileClosing sends.
const bcastMsgs = 18

// bcastPayload is broadcaster b's message k: its prefix names it, the rest is
// compressible or not, of one of three sizes.
func bcastPayload(b, k int) []byte {
	p := []byte(fmt.Sprintf("b%d:%03d:", b, k))
	n := []int{40, 1500, 12000}[k%3]
	if k%2 == 0 {
		return append(p, jsonish(n)...)
	}
	r := rand.New(rand.NewPCG(uint64(b), uint64(k)))
	for range n {
		p = append(p, byte(r.Uint32()))
	}
	return p
}

// bcastReader reads one connection's broadcasts and checks them.
type bcastReader struct {
	t     *testing.T
	rc    *rawClient
	dc    *deflate.Conn
	slow  bool // reads only once the broadcasts are done
	ended bool // the end message came
	done  chan struct{}
}

func newBcastReader(t *testing.T, rc *rawClient, ext string, slow bool) *bcastReader {
	r := &bcastReader{t: t, rc: rc, slow: slow, done: make(chan struct{})}
	r.dc = peerInflater(t, ext)
	return r
}

func (r *bcastReader) wait(t *testing.T) {
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("a reader is still reading after 30 s")
	}
}

// run reads until the end message, a close frame or the end of the
// connection; each broadcaster's messages must come in order with no gap,
// and all of them before the end message.
func (r *bcastReader) run() {
	defer close(r.done)
	next := [3]int{}
	for {
		h, p, err := r.rc.readFrame()
		if err != nil || h.Opcode == frame.OpClose {
			return // closed mid-broadcast: what came before was checked
		}
		if h.Opcode.IsControl() {
			continue
		}
		if !h.Fin || h.Opcode == frame.OpContinuation || (h.Rsv != 0 && (r.dc == nil || h.Rsv != frame.Rsv1)) {
			r.t.Errorf("frame %+v", h)
			return
		}
		if h.Rsv != 0 {
			if p, err = r.dc.Decompress(nil, p, 0); err != nil {
				r.t.Errorf("a compressed broadcast does not inflate: %v", err)
				return
			}
		}
		if h.Opcode == frame.OpText && string(p) == "end" {
			if next != [3]int{bcastMsgs, bcastMsgs, bcastMsgs} {
				r.t.Errorf("the end after %v messages, want %d of each", next, bcastMsgs)
			}
			r.ended = true
			return
		}
		var b, k int
		if _, err := fmt.Sscanf(string(p[:min(len(p), 7)]), "b%d:%d:", &b, &k); err != nil || b < 0 || b > 2 ||
			k != next[b] || !bytes.Equal(p, bcastPayload(b, k)) {
			r.t.Errorf("after %v: a message of %d bytes %.12q is not the next one", next, len(p), p)
			return
		}
		next[b]++
	}
}
