package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// TestWriteHammer: every kind of write on one connection from many goroutines
// at once (WriteMessage, WriteText, WriteMessageFunc, WritePrepared,
// Broadcast, WriteFrame fragments, Ping, Pong), while the peer pings, with
// and without permessage-deflate (context takeover on and off), with
// WriteFragmentSize, with messages large enough to queue and to be refused at
// MaxWriteBuffer, until Close or CloseNow races them. A raw client reads every
// frame and checks it byte for byte (hammerPeer): no frame inside another
// message's fragments (RFC 6455 §5.4), every compressed message inflates to
// what was written (one history, advanced in the order the frames go out:
// RFC 7692 §7.2.1), each goroutine's messages in its order, nothing after the
// close frame (§5.5.1). On the server side a write that began after Close
// returned gets ErrClosed; after a graceful close every write that returned
// nil arrived (but those held behind an unfinished fragmented message, which
// the close drops), and a WriteMessageFunc callback says nil exactly for the
// messages that arrived.
func TestWriteHammer(t *testing.T) {
	t.Parallel()
	for _, tc := range []hammerCase{
		{name: "plain", close: "Close"},
		{name: "plain frag", frag: 1500, close: "CloseNow"},
		{name: "takeover", deflate: &deflate.Options{Threshold: 64}, close: "Close"},
		{name: "takeover frag", deflate: &deflate.Options{Threshold: 64}, frag: 1500, close: "Close"},
		{name: "no takeover frag", deflate: &deflate.Options{Threshold: 64, ServerNoContextTakeover: true},
			frag: 1500, close: "CloseNow"},
		{name: "tls", tls: true, close: "Close"},
		{name: "budget", budget: 256 << 10, close: "CloseNow"},
		{name: "tls budget takeover", tls: true, budget: 256 << 10, deflate: &deflate.Options{Threshold: 64}, close: "CloseNow"},
		{name: "tls takeover frag", tls: true, deflate: &deflate.Options{Threshold: 64}, frag: 1500, close: "CloseNow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) { testWriteHammer(t, cfg, tc) })
		})
	}
}

type hammerCase struct {
	name    string
	deflate *deflate.Options
	frag    int
	close   string // "Close" or "CloseNow"
	tls     bool
	budget  int64 // MaxTotalBuffered (0: default): writes may be cut (ErrBudgetCut)
}

const (
	hammerWriters = 4
	hammerMsgs    = 40 // per writer
)

// hammerMsg is writer id's message seq: its prefix names it, the rest is
// compressible text or incompressible bytes of a size the pair decides, so
// the peer can rebuild it exactly; every fourth is text (WriteText).
func hammerMsg(id, seq int) []byte {
	r := rand.New(rand.NewPCG(uint64(id), uint64(seq)))
	sizes := []int{0, 20, 300, 4000, 40000, 150000}
	n := sizes[r.IntN(len(sizes))]
	b := []byte(fmt.Sprintf("w%d:%d:", id, seq))
	if seq%4 == 3 { // WriteText
		return append(b, strings.Repeat("t", n)...)
	}
	if seq%2 == 0 {
		return append(b, jsonish(n)...)
	}
	for range n {
		b = append(b, byte(r.Uint32()))
	}
	return b
}

// hammerPrepared are the prepared messages every hammer broadcasts.
var hammerPrepared = func() [][]byte {
	var out [][]byte
	for k, n := range []int{10, 2000, 70000} {
		out = append(out, []byte(fmt.Sprintf("p%d:%s", k, jsonish(n))))
	}
	return out
}()

// hammerLog is what the server side did, for the peer's account to be
// checked against.
type hammerLog struct {
	mu      sync.Mutex
	ok      [hammerWriters]map[int]bool // writes that returned nil
	dones   map[[2]int]error            // WriteMessageFunc results, by writer and seq
	doneN   map[[2]int]int              // how often each callback ran
	prep    int                         // prepared messages taken (WritePrepared, Broadcast)
	closing atomic.Bool                 // Close or CloseNow has returned
}

// writeErr checks a write's error: nil or a refusal at the cap, and after
// the close has returned ErrClosed only.
func (l *hammerLog) writeErr(t *testing.T, what string, after bool, err error) {
	switch {
	case after && !errors.Is(err, ErrClosed):
		t.Errorf("%s begun after %s returned: %v, want ErrClosed", what, "the close", err)
	case err == nil, errors.Is(err, ErrClosed), errors.Is(err, ErrWriteBufferFull), errors.Is(err, ErrBudgetCut):
	default:
		t.Errorf("%s: %v", what, err)
	}
}

func testWriteHammer(t *testing.T, cfg Config, tc hammerCase) {
	if tc.deflate != nil {
		o := *tc.deflate
		cfg.Compression = &o
	}
	cfg.WriteFragmentSize = tc.frag
	if tc.budget != 0 {
		cfg.MaxTotalBuffered = tc.budget
	}
	cfg.MaxWriteBuffer = 512 << 10 // the bigger messages queue, and some are refused
	cfg.CloseTimeout = 5 * time.Second
	h := newBPHandler()
	var ext []string
	if tc.deflate != nil {
		ext = append(ext, "Sec-WebSocket-Extensions: permessage-deflate")
	}
	var s *Server
	var rc *rawClient
	var resp *http.Response
	if tc.tls { // wss: the record layer on the loops, crypto/tls in goroutine mode
		var addr string
		s, addr = startTLS(t, h, cfg)
		nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, clientTLS(t))
		if err != nil {
			t.Fatal(err)
		}
		rc, resp = handshakeRaw(t, nc, addr, ext...)
	} else {
		var addr string
		s, addr = startServer(t, h, cfg, nil)
		rc, resp = dialRawResp(t, addr, ext...)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("handshake %d", resp.StatusCode)
	}
	c := h.conn(t)
	peer := newHammerPeer(t, rc, resp, tc.close == "Close")
	go peer.run()

	log := &hammerLog{dones: map[[2]int]error{}, doneN: map[[2]int]int{}}
	for i := range log.ok {
		log.ok[i] = map[int]bool{}
	}
	var wg sync.WaitGroup
	var written atomic.Int32
	for id := range hammerWriters {
		wg.Go(func() {
			for seq := range hammerMsgs {
				m := hammerMsg(id, seq)
				after := log.closing.Load()
				var err error
				switch seq % 4 {
				case 0:
					err = c.WriteMessage(frame.OpBinary, m)
				case 1:
					err = c.WriteBinary(m)
				case 2:
					key := [2]int{id, seq}
					err = c.WriteMessageFunc(frame.OpBinary, m, func(err error) {
						log.mu.Lock()
						log.dones[key] = err
						log.doneN[key]++
						log.mu.Unlock()
					})
				default:
					err = c.WriteText(string(m))
				}
				log.writeErr(t, fmt.Sprintf("writer %d message %d", id, seq), after, err)
				if err == nil {
					log.mu.Lock()
					log.ok[id][seq] = true
					log.mu.Unlock()
				}
				written.Add(1)
				if errors.Is(err, ErrClosed) {
					return
				}
			}
		})
	}
	var pms []*PreparedMessage
	for _, p := range hammerPrepared {
		pms = append(pms, NewPreparedMessage(frame.OpText, p))
	}
	wg.Go(func() { // prepared messages, one by one and broadcast
		for i := 0; i < 60; i++ {
			after := log.closing.Load()
			pm := pms[i%len(pms)]
			if i%2 == 0 {
				err := c.WritePrepared(pm)
				log.writeErr(t, "WritePrepared", after, err)
				if err == nil {
					log.mu.Lock()
					log.prep++
					log.mu.Unlock()
				}
				if errors.Is(err, ErrClosed) {
					return
				}
			} else if n := s.Broadcast(pm, nil); n > 0 {
				log.mu.Lock()
				log.prep += n
				log.mu.Unlock()
			}
		}
	})
	wg.Go(func() { // fragmented messages by hand
		for seq := 0; seq < 20; seq++ {
			if !hammerFragments(t, c, log, seq) {
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	wg.Go(func() { // pings and pongs
		for i := 0; ; i++ {
			after := log.closing.Load()
			var err error
			if i%2 == 0 {
				err = c.Ping([]byte(fmt.Sprintf("ping-%d", i)))
			} else {
				err = c.Pong([]byte(fmt.Sprintf("pong-%d", i)))
			}
			log.writeErr(t, "Ping/Pong", after, err)
			if err != nil || i > 2000 {
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	// The close, once about half the messages are written.
	deadline := time.Now().Add(10 * time.Second)
	for written.Load() < hammerWriters*hammerMsgs/2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if tc.close == "Close" {
		c.Close(frame.StatusNormalClosure, "hammer")
	} else {
		c.CloseNow(frame.StatusNormalClosure, "hammer")
	}
	log.closing.Store(true)
	wg.Wait()
	acct := peer.wait()
	h.waitClose(t)
	peer.check(log, acct)
}

// hammerFragments writes message seq of the fragment writer as three frames,
// retrying a frame refused at the cap (a started message must end, or the
// messages held behind it never go out). It reports false once closed.
func hammerFragments(t *testing.T, c *Conn, log *hammerLog, seq int) bool {
	parts := []string{fmt.Sprintf("f%d:", seq), strings.Repeat("a", seq*100), strings.Repeat("b", 7)}
	for i, p := range parts {
		op := frame.OpContinuation
		if i == 0 {
			op = frame.OpText
		}
		for {
			after := log.closing.Load()
			err := c.WriteFrame(i == len(parts)-1, op, 0, []byte(p))
			log.writeErr(t, "WriteFrame", after, err)
			if err == nil {
				break
			}
			if errors.Is(err, ErrClosed) {
				return false
			}
			time.Sleep(time.Millisecond) // refused at the cap: the peer reads on
		}
	}
	return true
}
