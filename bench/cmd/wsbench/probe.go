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
// each sending one message of the cell's size at a fixed rate and waiting for
// its echo. A closed-loop echo's p99 is its queue: it moves with the throughput
// the machine gave that cell (conns / msg/s), so it cannot tell a server's own
// delay from the box's. The probe's round trips are timed from each message's
// scheduled send time, not from when it left, so a send held up by the previous
// echo (or by the probe's own thread not running) counts against the server as a
// user arriving on schedule would see it (no coordinated omission).
//
// The probe's client is the same for every server, and none of them (a blocking
// net.Conn, a hand-written RFC 6455 client: masked binary frames out, one data
// frame back per message), so its own cost does not differ between servers.

// probe is a running latency probe.
type probe struct {
	conns  []net.Conn
	period time.Duration // between two sends on one connection
	msg    []byte        // what one send writes (a masked frame, or the raw bytes)
	size   int           // payload bytes expected back
	raw    bool

	recording atomic.Int64 // UnixNano of the mark: sends due from then on are recorded; 0: not yet
	mu        sync.Mutex
	samples   []time.Duration
	errs      atomic.Int64
	done      chan struct{}
	wg        sync.WaitGroup
}

// probeResult is what a probe measured in its window.
type probeResult struct {
	N      int
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
	return fmt.Sprintf(", probe %d: p50 %.0f µs, p99 %.0f µs, errors %d", r.N, r.P50us, r.P99us, r.Errors)
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
		c, err := dialProbe(addr, raw)
		if err != nil {
			p.close()
			return nil, err
		}
		p.conns = append(p.conns, c)
	}
	start := time.Now().Add(p.period)
	for i, c := range p.conns {
		first := start.Add(time.Duration(i) * p.period / time.Duration(n))
		p.wg.Add(1)
		go p.run(c, first)
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

// run is one probe connection: a send at every due time, then its echo, each
// round trip timed from the due time. A send that is late (the previous echo
// took longer than the period) goes at once.
func (p *probe) run(c net.Conn, due time.Time) {
	defer p.wg.Done()
	br := bufio.NewReaderSize(c, 64<<10)
	t := time.NewTimer(0)
	<-t.C
	for ; ; due = due.Add(p.period) {
		if d := time.Until(due); d > 0 {
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
		if _, err := c.Write(p.msg); err != nil {
			p.fail()
			return
		}
		if err := p.readEcho(br); err != nil {
			p.fail()
			return
		}
		rtt := time.Since(due)
		if m := p.recording.Load(); m != 0 && due.UnixNano() >= m {
			p.mu.Lock()
			p.samples = append(p.samples, rtt)
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

// result is what was recorded since mark (exact quantiles: a few hundred samples).
func (p *probe) result() probeResult {
	p.mu.Lock()
	s := slices.Clone(p.samples)
	p.mu.Unlock()
	r := probeResult{N: len(s), Errors: p.errs.Load()}
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
		c.Close()
	}
	p.wg.Wait()
}
