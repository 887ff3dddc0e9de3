package interop

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

var targetModes = []string{"pool", "inline", "goroutine"}

// attackMode is the target's -mode in TestAttackNeverReads: gorilla runs the
// same attack against gorilla/websocket on the same machine, to tell what the
// machine costs a fresh client from what the server does.
var attackMode = flag.String("attack-mode", "pool", "TestAttackNeverReads's target: pool, inline, goroutine or gorilla")

// attackCases are the attack rows of the bad-peer list in docs/conformance.md;
// each test below records its row (recordAttack).
var attackCases = []struct{ name, rule, expect string }{
	{"a header declaring 2^63-1 bytes, split after its second byte", "§5.2 payload length; Config.MaxFrameSize",
		"close 1009; the server goes on serving"},
	{"a server's header declaring 2^63-1 bytes, split", "§5.2; Config.MaxFrameSize (client)", "the client closes with 1009"},
	{"300 connections each declaring a 16 MiB frame and sending 100 bytes", "buffers grow as bytes arrive, never by a header's claim",
		"the server's heap grows by at most 32 MiB in all"},
	{"senders of 64 KiB messages that never read the echoes", "Config.WriteHighWater: stop reading (backpressure)",
		"RSS grows at most 64 MiB; a fresh client is served; every fd goes after"},
	{"never-reading clients under a broadcast: keepalive off, and on with and without pongs", "Config.MaxTotalBuffered",
		"the queues and the pool's resident memory stop at the budget less its headroom (2 MiB, or a quarter when smaller); past the idle connections, RSS grows by at most the budget; the policy refuses the rest; a fresh client is served"},
	{"compression with writes the policy refuses", "RFC 7692 context takeover: encode, admit, commit",
		"every echo that arrives is byte-exact and in order"},
	{"a 4 MiB message in 64-byte fragments", "§5.4; the default Config.MaxFragments", "echoed whole"},
	{"1e6 empty fragments", "Config.MaxFragments", "close 1008 within 100 ms (1 s in make test)"},
}

// attackParallel runs the case beside the others in make test; with
// -attack-long the cases run one at a time, so that each one's figures are its
// own.
func attackParallel(t *testing.T) {
	if !*attackLong {
		t.Parallel()
	}
}

// recordAttack records attack row i for mode when t ends.
func recordAttack(t *testing.T, i int, mode string) {
	t.Cleanup(func() {
		var err error
		if t.Failed() {
			err = errors.New("failed: see the test's log")
		}
		c := attackCases[i]
		recordBad("attack", c.name, c.rule, c.expect, mode, err)
	})
}

// A binary frame header declaring 2^63-1 bytes, cut after its second byte: the
// server must answer 1009 (or 1002) and live on, in every mode.
func TestAttackSplitHugeHeader(t *testing.T) {
	attackParallel(t)
	for _, mode := range targetModes {
		t.Run(mode, func(t *testing.T) {
			attackParallel(t)
			tg := startTarget(t, "-mode", mode)
			recordAttack(t, 0, mode)
			r, resp, err := rawHandshake(tg.ws, stdReq().bytes(tg.ws), false)
			if err != nil || resp.StatusCode != 101 {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			defer r.nc.Close()
			r.startFrames()
			h := maskedHeader(true, frame.OpBinary, 1<<63-1)
			r.write(h[:2])
			time.Sleep(50 * time.Millisecond) // its own segment
			r.write(h[2:])
			code, _, err := r.expectClose(badTimeout)
			if err != nil {
				t.Fatalf("no close frame: %v", err)
			}
			if code != frame.StatusMessageTooBig && code != frame.StatusProtocolError {
				t.Fatalf("close %d, want 1009 or 1002", code)
			}
			tg.alive(t)
		})
	}
}

// The same header from a server: weir's client closes with 1009 (or 1002).
func TestAttackSplitHugeHeaderClient(t *testing.T) {
	attackParallel(t)
	h := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 1<<63 - 1})
	srv, err := newRawServer(func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		defer nc.Close()
		nc.Write([]byte(accept101(req.Header.Get("Sec-WebSocket-Key"))))
		nc.Write(h[:2])
		time.Sleep(50 * time.Millisecond)
		nc.Write(h[2:])
		nc.SetReadDeadline(time.Now().Add(badTimeout))
		buf := make([]byte, 512)
		for {
			if _, err := nc.Read(buf); err != nil {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	for _, m := range badModes {
		t.Run(m.name, func(t *testing.T) {
			rec := newRecorder()
			recordAttack(t, 1, m.name)
			cl, err := engine.NewClient(rec, ptr(m.config(engine.Config{})))
			if err != nil {
				t.Fatal(err)
			}
			defer closeClient(cl)
			if _, _, err := cl.Dial(attackCtx(t, badTimeout), srv.url(), nil); err != nil {
				t.Fatalf("dial: %v", err)
			}
			select {
			case ev := <-rec.closed:
				if ev.code != frame.StatusMessageTooBig && ev.code != frame.StatusProtocolError {
					t.Fatalf("client closed with %d (%v), want 1009 or 1002", ev.code, ev.err)
				}
			case <-time.After(badTimeout):
				t.Fatal("client never closed")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Connections that each declare a 16 MiB frame and send 100 bytes of it: the
// server's heap grows by what arrived, not by what was declared (at most
// 32 MiB for 300 of them).
func TestAttackDeclaredFrames(t *testing.T) {
	attackParallel(t)
	const n = 300
	for _, mode := range targetModes {
		t.Run(mode, func(t *testing.T) {
			tg := startTarget(t, "-mode", mode)
			tg.alive(t)
			conns := openRawN(t, tg.ws, n)
			recordAttack(t, 2, mode)
			before := tg.memory(t)
			msg := append(maskedHeader(true, frame.OpBinary, 16<<20), make([]byte, 100)...)
			for _, r := range conns {
				if err := r.write(msg); err != nil {
					t.Fatal(err)
				}
			}
			want := before.Stats.BytesIn + uint64(n*len(msg))
			var after targetMem
			if !waitFor(badTimeout, func() bool { after = tg.memory(t); return after.Stats.BytesIn >= want }) {
				t.Fatalf("the server read %d of %d bytes", after.Stats.BytesIn-before.Stats.BytesIn, n*len(msg))
			}
			grew := after.HeapInuse - before.HeapInuse
			t.Logf("%s: %d connections declaring 16 MiB frames: heap %+.1f MiB, RSS %+.1f MiB", mode, n, mib(grew), mib(after.RSS-before.RSS))
			if grew > 32<<20 {
				t.Fatalf("heap grew %.1f MiB, over 32 MiB", mib(grew))
			}
			tg.alive(t)
		})
	}
}

// Clients that send 64 KiB messages and never read the echoes: the server stops
// reading them (backpressure), its RSS stays bounded, a fresh client is served
// at once, and every fd goes once they leave (keepalive off).
func TestAttackNeverReads(t *testing.T) {
	attackParallel(t)
	n, dur, maxLatency := 40, 2*time.Second, time.Second
	if *attackLong {
		n, dur, maxLatency = 200, 10*time.Second, 100*time.Millisecond
	}
	tg := startTarget(t, "-mode", *attackMode)
	tg.alive(t)
	before := tg.memory(t)
	fl := startFlood(t, tg.ws, n, 64<<10, dur)
	recordAttack(t, 3, *attackMode)
	// The fresh client runs in a process of its own too, at the ordinary
	// priority, as a real one on another machine would.
	fresh := tg.freshClients(t, 10, dur/10)
	end := time.Now().Add(dur)
	var peak int64
	var sent int64
	var floodErr error
	done := make(chan struct{})
	go func() { sent, floodErr = fl.run(); close(done) }()
	for time.Now().Before(end) {
		time.Sleep(dur / 10)
		peak = max(peak, tg.memory(t).RSS)
	}
	<-done
	if floodErr != nil {
		t.Fatal(floodErr)
	}
	probes := fresh()
	worst := slices.Max(probes)
	during := tg.memory(t)
	peak = max(peak, during.RSS)
	fl.close()
	var after targetMem
	left := time.Now()
	waitFor(badTimeout, func() bool { after = tg.memory(t); return after.FDs <= before.FDs })
	t.Logf("%d never-reading senders for %v: %d messages sent, RSS peak %+.1f MiB, fresh client worst %v (each: %v), fds %d -> %d (%d connections) %v after they left",
		n, dur, sent, mib(peak-before.RSS), worst, probes, before.FDs, after.FDs, after.Conns, time.Since(left).Round(time.Millisecond))
	if g := peak - before.RSS; g > 64<<20 {
		t.Errorf("RSS grew %.1f MiB, over 64 MiB", mib(g))
	}
	if worst > maxLatency {
		t.Errorf("a fresh client's handshake and echo took %v, over %v", worst, maxLatency)
	}
	if after.FDs > before.FDs {
		t.Errorf("fds %d before, %d after the attackers left", before.FDs, after.FDs)
	}
}

// permessage-deflate with context takeover and writes the policy refuses: every
// message that arrives is one that was sent, in order, byte for byte (or the
// connection ends with an error), never silently wrong.
func TestAttackCompressionRefusedWrites(t *testing.T) {
	attackParallel(t)
	tg := startTarget(t, "-mode", "pool", "-compress", "-max-write-buffer", "65536")
	recordAttack(t, 5, "pool")
	// A small receive buffer, so that the server's queue fills soon.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	// A client without keepalive: this one reads nothing until it has written
	// every message, and its read queue fills at once, so with engine.Dial's
	// defaults (a ping after 20 s without input, dropped 10 s later) a write
	// phase over 30 s, seen at load 25 (85 s), ended in its own 1006.
	cl, err := engine.NewClient(nil, &engine.Config{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c, _, err := cl.Dial(attackCtx(t, badTimeout), "ws://"+tg.ws+"/", &engine.DialOptions{
		Compression: &deflate.Options{}, ReadQueue: 4, NetDialContext: d.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow(1000, "")
	const total = 20000
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu")
	body := func(i int) []byte {
		// 1.5 KiB of words in an order that differs per message: compressible,
		// with back-references into earlier messages (context takeover).
		b := fmt.Appendf(nil, "message %06d: ", i)
		x := uint32(i)*2654435761 + 1
		for len(b) < 1500 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b = append(b, words[x%uint32(len(words))]...)
			b = append(b, ' ')
		}
		return b
	}
	for i := range total {
		if err := c.WriteMessage(frame.OpBinary, body(i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	next, got := 0, 0
	for {
		ctx := attackCtx(t, 2*time.Second)
		_, p, err := c.ReadMessage(ctx)
		if err != nil {
			t.Logf("%d of %d echoes arrived (the rest refused by the server's policy); read ended: %v", got, total, err)
			break
		}
		if len(p) < 14 {
			t.Fatalf("message %d: %q", got, p)
		}
		var i int
		if _, err := fmt.Sscanf(string(p[:14]), "message %06d", &i); err != nil || i < next || i >= total || !bytes.Equal(p, body(i)) {
			t.Fatalf("echo %d is not a message that was sent after %d (silent corruption): %q", got, next, p[:min(len(p), 60)])
		}
		next, got = i+1, got+1
	}
	if got == 0 {
		t.Fatal("no echo arrived")
	}
}

// Autobahn 9.3/9.4's shape (legal) arrives with the defaults; a flood of empty
// fragments is closed early.
func TestAttackFragments(t *testing.T) {
	attackParallel(t)
	tg := startTarget(t, "-mode", "pool")
	t.Run("4 MiB in 64-byte fragments", func(t *testing.T) {
		recordAttack(t, 6, "pool")
		r, resp, err := rawHandshake(tg.ws, stdReq().bytes(tg.ws), false)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		defer r.nc.Close()
		r.startFrames()
		msg := make([]byte, 4<<20)
		for i := range msg {
			msg[i] = byte(i * 31)
		}
		var wire []byte
		for off := 0; off < len(msg); off += 64 {
			op := frame.OpContinuation
			if off == 0 {
				op = frame.OpBinary
			}
			wire = append(wire, cf(off+64 >= len(msg), op, msg[off:off+64])...)
		}
		go r.write(wire)
		op, p, err := r.expectMessage(30 * time.Second)
		if err != nil || op != frame.OpBinary || !bytes.Equal(p, msg) {
			t.Fatalf("echo: op %v, %d bytes, equal %v, %v", op, len(p), bytes.Equal(p, msg), err)
		}
	})
	t.Run("1e6 empty fragments", func(t *testing.T) {
		recordAttack(t, 7, "pool")
		r, resp, err := rawHandshake(tg.ws, stdReq().bytes(tg.ws), false)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		defer r.nc.Close()
		r.startFrames()
		const n = 1_000_000
		wire := cf(false, frame.OpBinary, nil)
		one := cf(false, frame.OpContinuation, nil)
		for range n - 1 {
			wire = append(wire, one...)
		}
		start := time.Now()
		go r.write(wire)
		code, _, err := r.expectClose(badTimeout)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("no close: %v", err)
		}
		t.Logf("1e6 empty fragments: close %d after %v", code, took)
		if code != frame.StatusPolicyViolation && code != frame.StatusMessageTooBig {
			t.Fatalf("close %d, want 1008 or 1009", code)
		}
		limit := time.Second
		if *attackLong {
			limit = 100 * time.Millisecond
		}
		if took > limit {
			t.Fatalf("closed after %v, over %v", took, limit)
		}
	})
}
