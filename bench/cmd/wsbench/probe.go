package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The latency probe ("ratio -probe N"): a few connections beside the echo load,
// each sending one message of the cell's size at a fixed rate, whether or not
// the earlier echoes are back (an open loop: messages are pipelined, and TCP
// brings their echoes back in order). A closed-loop echo's p99 is its queue: it
// moves with the throughput the machine gave that cell (conns / msg/s). The
// probe's rate does not move, and its round trips are timed from each message's
// scheduled send time, not from when it left, so a send held up (a full socket,
// or the probe's own thread not running) counts against the server as a user
// arriving on schedule would see it (no coordinated omission). A message due in
// the window whose echo is not back when the window's figures are taken counts
// as late as it is by then (a lower bound), so slow echoes are not dropped from
// the quantiles.
//
// The probe's client is the same for every server, and none of them (blocking
// net.Conns, a hand-written RFC 6455 client: masked binary frames out, one data
// message back per message), so its own cost does not differ between servers.

// probe is a running latency probe.
type probe struct {
	conns  []*probeConn
	period time.Duration // between two sends on one connection
	msg    []byte        // what one send writes (a masked frame, or the raw bytes)
	size   int           // payload bytes expected back
	raw    bool

	recording atomic.Int64 // UnixNano of the mark: messages due from then on are recorded; 0: not yet
	mu        sync.Mutex
	samples   []time.Duration
	errs      atomic.Int64
	done      chan struct{}
	wg        sync.WaitGroup
}

// probeConn is one probe connection: its writer pushes each message's due time
// (UnixNano) before sending it, its reader pops one per echo.
type probeConn struct {
	nc      net.Conn
	mu      sync.Mutex
	pending []int64      // due times sent or being sent, echo not back, oldest first
	next    atomic.Int64 // the due time of the next message not yet pushed
}

// probeResult is what a probe measured in its window.
type probeResult struct {
	N      int // echoes back
	Out    int // messages due in the window whose echo was not back: counted as late as they were then
	P50us  float64
	P99us  float64
	MaxUs  float64
	Errors int64
}

// String is the progress line's part ("" without a probe).
func (r *probeResult) String() string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf(", probe %d (+%d out): p50 %.0f µs, p99 %.0f µs, errors %d", r.N, r.Out, r.P50us, r.P99us, r.Errors)
}

// probeKey is the fixed Sec-WebSocket-Key (RFC 6455 §4.1: a nonce; the server
// only hashes it) and probeAccept its expected Sec-WebSocket-Accept.
const (
	probeKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	probeAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// probeMask is the probe's masking key (RFC 6455 §5.3). The payload never
// changes, so it is masked once.
var probeMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// startProbe dials n connections to addr (host:port; raw: plain TCP, else a
// WebSocket upgrade on "/") and starts each sending a size-byte message, rate
// messages a second in all, spread evenly. Nothing is recorded until mark.
func startProbe(addr string, raw bool, n int, rate float64, size int) (*probe, error) {
	if n <= 0 || rate <= 0 || size <= 0 {
		return nil, fmt.Errorf("probe: %d conns at %g/s of %d B", n, rate, size)
	}
	p := &probe{period: time.Duration(float64(n) / rate * 1e9), size: size, raw: raw,
		done: make(chan struct{})}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	if raw {
		p.msg = payload
	} else {
		p.msg = maskedFrame(payload)
	}
	for range n {
		nc, err := dialProbe(addr, raw)
		if err != nil {
			p.close()
			return nil, err
		}
		p.conns = append(p.conns, &probeConn{nc: nc})
	}
	start := time.Now().Add(p.period)
	for i, c := range p.conns {
		c.next.Store(start.Add(time.Duration(i) * p.period / time.Duration(n)).UnixNano())
		p.wg.Add(2)
		go p.send(c)
		go p.receive(c)
	}
	return p, nil
}

// maskedFrame is one final binary frame from a client (RFC 6455 §5.2: FIN,
// opcode 2, MASK set, the shortest length encoding, the key, the masked payload).
func maskedFrame(payload []byte) []byte {
	n := len(payload)
	f := []byte{0x82}
	switch {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	f = append(f, probeMask[:]...)
	for i, b := range payload {
		f = append(f, b^probeMask[i%4])
	}
	return f
}

// dialProbe connects and, for a WebSocket server, upgrades (RFC 6455 §4.1).
func dialProbe(addr string, raw bool) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil || raw {
		return c, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, probeKey)
	// Read the response byte by byte up to its blank line, so that no frame
	// byte after it is left in a reader's buffer.
	var resp []byte
	one := make([]byte, 1)
	for !strings.HasSuffix(string(resp), "\r\n\r\n") {
		if len(resp) > 8192 {
			c.Close()
			return nil, errors.New("probe: upgrade response too long")
		}
		if _, err := io.ReadFull(c, one); err != nil {
			c.Close()
			return nil, fmt.Errorf("probe: upgrade: %w", err)
		}
		resp = append(resp, one[0])
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 101") || !strings.Contains(string(resp), probeAccept) {
		c.Close()
		return nil, fmt.Errorf("probe: upgrade refused: %q", strings.SplitN(string(resp), "\r\n", 2)[0])
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// send is a connection's writer: a message at every due time, late ones at once.
func (p *probe) send(c *probeConn) {
	defer p.wg.Done()
	t := time.NewTimer(0)
	<-t.C
	for {
		due := c.next.Load()
		if d := time.Until(time.Unix(0, due)); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-p.done:
				return
			}
		}
		select {
		case <-p.done:
			return
		default:
		}
		c.mu.Lock() // pending and next move together: result reads both
		c.pending = append(c.pending, due)
		c.next.Store(due + int64(p.period))
		c.mu.Unlock()
		if _, err := c.nc.Write(p.msg); err != nil {
			p.fail()
			return
		}
	}
}

// receive is a connection's reader: each echo is the oldest pending message's.
func (p *probe) receive(c *probeConn) {
	defer p.wg.Done()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	for {
		if err := p.readEcho(br); err != nil {
			p.fail()
			return
		}
		now := time.Now().UnixNano()
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.mu.Unlock()
			p.errs.Add(1) // an echo of nothing sent
			return
		}
		due := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		if m := p.recording.Load(); m != 0 && due >= m {
			p.mu.Lock()
			p.samples = append(p.samples, time.Duration(now-due))
			p.mu.Unlock()
		}
	}
}

// fail counts a broken connection unless the probe is being stopped.
func (p *probe) fail() {
	select {
	case <-p.done:
	default:
		p.errs.Add(1)
	}
}

// readEcho reads the echo of one message: size raw bytes, or data frames up to
// one with FIN whose payloads add up to size (control frames are skipped).
func (p *probe) readEcho(br *bufio.Reader) error {
	if p.raw {
		_, err := br.Discard(p.size)
		return err
	}
	got := 0
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return err
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if h[1]&0x80 != 0 || n > uint64(p.size-got)+125 {
			return fmt.Errorf("probe: unexpected frame %x, %d bytes", h, n)
		}
		if _, err := br.Discard(int(n)); err != nil {
			return err
		}
		op := h[0] & 0x0f
		if op == 0x8 {
			return errors.New("probe: server closed")
		}
		if op >= 0x8 { // ping, pong: not the echo
			continue
		}
		got += int(n)
		if h[0]&0x80 != 0 {
			if got != p.size {
				return fmt.Errorf("probe: echo of %d bytes, sent %d", got, p.size)
			}
			return nil
		}
	}
}

// mark starts the window: sends due from now on are recorded.
func (p *probe) mark() {
	p.mu.Lock()
	p.samples = p.samples[:0]
	p.mu.Unlock()
	p.errs.Store(0)
	p.recording.Store(time.Now().UnixNano())
}

// result is what was recorded since mark (exact quantiles: a few hundred
// samples), with every message due since mark whose echo is not back yet, sent
// or not, counted as late as it is now.
func (p *probe) result() probeResult {
	now := time.Now().UnixNano()
	m := p.recording.Load()
	p.mu.Lock()
	s := slices.Clone(p.samples)
	p.mu.Unlock()
	r := probeResult{N: len(s), Errors: p.errs.Load()}
	if m != 0 {
		for _, c := range p.conns {
			c.mu.Lock()
			for _, due := range c.pending {
				if due >= m {
					s = append(s, time.Duration(now-due))
					r.Out++
				}
			}
			next := c.next.Load()
			c.mu.Unlock()
			for due := next; due < now; due += int64(p.period) {
				if due >= m {
					s = append(s, time.Duration(now-due))
					r.Out++
				}
			}
		}
	}
	if len(s) == 0 {
		return r
	}
	slices.Sort(s)
	q := func(f float64) float64 { // the sample of rank ⌈f·n⌉
		i := min(max(int(math.Ceil(f*float64(len(s))))-1, 0), len(s)-1)
		return float64(s[i]) / float64(time.Microsecond)
	}
	r.P50us, r.P99us, r.MaxUs = q(.5), q(.99), q(1)
	return r
}

// close stops every connection's sender and waits for them.
func (p *probe) close() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	for _, c := range p.conns {
		c.nc.Close()
	}
	p.wg.Wait()
}
