package engine

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// hammerPeer is TestWriteHammer's client: it reads and checks every frame the
// server sends and, for a graceful close, pings meanwhile and answers the close.
type hammerPeer struct {
	t        *testing.T
	rc       *rawClient
	dc       *deflate.Conn // nil: no compression agreed
	graceful bool
	wmu      sync.Mutex // the pinger's writes and the close answer
	answered bool
	done     chan hammerAcct
}

// hammerAcct is what the peer received.
type hammerAcct struct {
	got       [hammerWriters][]int // each writer's messages, in the order they came
	frags     []int                // the fragment writer's messages
	prep      int                  // prepared messages
	sawClose  bool
	fragOpen  bool // the close frame came inside a fragmented message
	closeCode frame.StatusCode
}

func newHammerPeer(t *testing.T, rc *rawClient, resp *http.Response, graceful bool) *hammerPeer {
	p := &hammerPeer{t: t, rc: rc, graceful: graceful, done: make(chan hammerAcct, 1)}
	p.dc = peerInflater(t, resp.Header.Get("Sec-WebSocket-Extensions"))
	return p
}

// peerInflater is a raw client's permessage-deflate side for the server's
// answer ext (nil when ext is empty: no compression).
func peerInflater(t *testing.T, ext string) *deflate.Conn {
	if ext == "" {
		return nil
	}
	offers, err := upgrade.ParseExtensions(ext)
	if err != nil || len(offers) != 1 {
		t.Fatalf("extensions %q: %v", ext, err)
	}
	params, err := deflate.ParseParams(offers[0])
	if err != nil {
		t.Fatal(err)
	}
	return deflate.NewConn(params, false, nil)
}

// write sends a client frame unless the close was answered.
func (p *hammerPeer) write(op frame.Opcode, payload []byte, answer bool) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.answered {
		return
	}
	p.answered = answer
	p.rc.nc.Write(frameBytes(true, op, 0, payload, true))
}

func (p *hammerPeer) run() {
	var acct hammerAcct
	stop := make(chan struct{})
	var pinger sync.WaitGroup
	if p.graceful { // autopongs among the writes (CloseNow's socket would reset with pings unread)
		pinger.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(500 * time.Microsecond):
				}
				p.write(frame.OpPing, []byte(fmt.Sprintf("cping-%d", i)), false)
			}
		})
	}
	defer func() {
		close(stop)
		pinger.Wait()
		p.done <- acct
	}()
	var msg []byte
	var op frame.Opcode
	in, compressed := false, false
	lastPing, lastPong := -1, -1
	for {
		h, payload, err := p.rc.readFrame()
		if err != nil {
			if p.graceful && !acct.sawClose {
				p.t.Errorf("read before the close frame: %v", err)
			}
			return // EOF (or a reset, after a close frame or CloseNow)
		}
		if acct.sawClose {
			p.t.Errorf("a frame after the close frame: %v fin %v, %d bytes %.40q", h.Opcode, h.Fin, len(payload), payload)
			return
		}
		if h.Masked || h.Rsv&^frame.Rsv1 != 0 || (h.Rsv != 0 && (p.dc == nil || in || h.Opcode.IsControl())) {
			p.t.Errorf("bad frame: %+v (in a message: %v)", h, in)
			return
		}
		if h.Opcode.IsControl() {
			if !h.Fin || len(payload) > frame.MaxControlPayload {
				p.t.Errorf("bad control frame %+v", h)
				return
			}
			switch h.Opcode {
			case frame.OpPing:
				lastPing = p.counter("ping-", payload, lastPing)
			case frame.OpPong:
				if !bytes.HasPrefix(payload, []byte("cping-")) { // autopongs may skip pings, but not go back
					lastPong = p.counter("pong-", payload, lastPong)
				}
			case frame.OpClose:
				acct.sawClose, acct.fragOpen = true, in
				code, reason, err := frame.ParseClose(payload)
				if err != nil || code != frame.StatusNormalClosure || string(reason) != "hammer" {
					p.t.Errorf("close frame %d %q %v", code, reason, err)
				}
				acct.closeCode = code
				if p.graceful {
					p.write(frame.OpClose, payload, true)
				}
			}
			continue
		}
		switch {
		case !in && (h.Opcode == frame.OpText || h.Opcode == frame.OpBinary):
			in, op, compressed, msg = true, h.Opcode, h.Rsv != 0, msg[:0]
		case !in || h.Opcode != frame.OpContinuation:
			p.t.Errorf("data frame %v while in a message: %v (RFC 6455 §5.4)", h.Opcode, in)
			return
		}
		msg = append(msg, payload...)
		if !h.Fin {
			continue
		}
		in = false
		m := msg
		if compressed {
			if m, err = p.dc.Decompress(nil, msg, 0); err != nil {
				p.t.Errorf("a compressed message does not inflate: %v", err)
				return
			}
		}
		if !p.account(&acct, op, m) {
			return
		}
	}
}

// counter checks a control payload prefix-N with N above last and returns N.
func (p *hammerPeer) counter(prefix string, payload []byte, last int) int {
	var n int
	if _, err := fmt.Sscanf(string(payload), prefix+"%d", &n); err != nil || n <= last {
		p.t.Errorf("control payload %q after %s%d", payload, prefix, last)
	}
	return n
}

// account checks one whole message against what its writer wrote.
func (p *hammerPeer) account(acct *hammerAcct, op frame.Opcode, m []byte) bool {
	var a, b int
	var want []byte
	wantOp := frame.OpText
	switch {
	case len(m) > 0 && m[0] == 'w':
		if _, err := fmt.Sscanf(string(m[:min(len(m), 16)]), "w%d:%d:", &a, &b); err != nil || a < 0 || a >= hammerWriters {
			break
		}
		want = hammerMsg(a, b)
		if b%4 != 3 {
			wantOp = frame.OpBinary
		}
		if got := acct.got[a]; len(got) > 0 && got[len(got)-1] >= b {
			p.t.Errorf("writer %d: message %d after %d", a, b, got[len(got)-1])
		}
		acct.got[a] = append(acct.got[a], b)
	case len(m) > 0 && m[0] == 'p':
		if _, err := fmt.Sscanf(string(m[:min(len(m), 4)]), "p%d:", &a); err == nil && a >= 0 && a < len(hammerPrepared) {
			want = hammerPrepared[a]
			acct.prep++
		}
	case len(m) > 0 && m[0] == 'f':
		if _, err := fmt.Sscanf(string(m[:min(len(m), 6)]), "f%d:", &a); err == nil {
			want = []byte(fmt.Sprintf("f%d:", a) + strings.Repeat("a", a*100) + strings.Repeat("b", 7))
			if n := len(acct.frags); n > 0 && acct.frags[n-1] >= a {
				p.t.Errorf("fragmented message %d after %d", a, acct.frags[n-1])
			}
			acct.frags = append(acct.frags, a)
		}
	}
	if want == nil || op != wantOp || !bytes.Equal(m, want) {
		i := 0
		for i < min(len(m), len(want)) && m[i] == want[i] {
			i++
		}
		p.t.Errorf("message %v of %d bytes %.24q differs from what was written (%v, %d bytes) at byte %d",
			op, len(m), m, wantOp, len(want), i)
		return false
	}
	return true
}

// wait returns what the peer received once the connection has ended.
func (p *hammerPeer) wait() hammerAcct {
	select {
	case a := <-p.done:
		return a
	case <-time.After(30 * time.Second):
		p.t.Fatal("the peer is still reading after 30 s")
	}
	return hammerAcct{}
}

// check holds what arrived against what the server's writes returned.
func (p *hammerPeer) check(log *hammerLog, acct hammerAcct) {
	t := p.t
	if t.Failed() {
		return // the peer stopped at the first wrong frame: the rest is noise
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if p.graceful && !acct.sawClose {
		t.Errorf("no close frame after Close")
	}
	// Everything that arrived was accepted; what did not arrive was last
	// (refused writes aside): a graceful close loses only messages held behind
	// an unfinished fragmented message, CloseNow what was still queued.
	lossy := !p.graceful || acct.fragOpen
	for id := range hammerWriters {
		got := map[int]bool{}
		last := -1
		for _, seq := range acct.got[id] {
			got[seq] = true
			last = seq
			if !log.ok[id][seq] {
				t.Errorf("writer %d: message %d arrived, its write failed", id, seq)
			}
		}
		for seq := range log.ok[id] {
			if !got[seq] && (!lossy || seq < last) {
				t.Errorf("writer %d: message %d written (nil) but not received (last received %d)", id, seq, last)
			}
		}
		for seq := 2; seq < hammerMsgs; seq += 4 {
			key := [2]int{id, seq}
			n, called := log.doneN[key]
			switch {
			case !log.ok[id][seq] && called:
				t.Errorf("writer %d message %d: refused, its callback ran", id, seq)
			case log.ok[id][seq] && n != 1:
				t.Errorf("writer %d message %d: callback ran %d times", id, seq, n)
			case log.ok[id][seq] && (log.dones[key] == nil) != got[seq] && (!lossy || log.dones[key] == nil):
				t.Errorf("writer %d message %d: callback(%v), received %v", id, seq, log.dones[key], got[seq])
			}
		}
	}
	if acct.prep > log.prep || (!lossy && acct.prep != log.prep) {
		t.Errorf("%d prepared messages received, %d taken", acct.prep, log.prep)
	}
}
