package main

import (
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/pubsub"
)

// tracer (-trace FILE) records, per publish, the wall-clock time at points of
// the cross-node path, for "wsbench pstrace": a line "EVENT STAMP UNIX_NS"
// per event, where STAMP is the publisher's stamp in the payload ("T" and 16
// hex digits, see wsbench psgen), the key that pairs node A's events with
// node B's. It is a debugging tool: without -trace nothing is wrapped and the
// hot path is the benchmark's ordinary one. Events:
//
//	in   node A: the ingress hands the publish to Hub.Publish
//	out  node A: Hub.Publish returned (local fan-out done)
//	bp   node A: the Hub calls Bridge.Publish
//	bq   node A: Bridge.Publish returned (queued for the sender goroutine)
//	s, p node A: the sender goroutine took it / nats.go's Publish returned
//	     (a psweir built with -tags weirtrace only: natsbridge.TraceHook)
//	w    node A: a write to the NATS socket holding it starts (nats.go's flusher)
//	wd   node A: that write returned
//	r    node B: a read from the NATS socket holding it returned
//	d    node B: the bridge calls the Hub's deliver (local fan-out starts)
//	dd   node B: deliver returned (local fan-out done)
type tracer struct {
	mu  sync.Mutex
	buf []byte
	f   *os.File
}

func newTracer(path string) (*tracer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	t := &tracer{f: f}
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			t.mu.Lock()
			b := t.buf
			t.buf = nil
			t.mu.Unlock()
			if len(b) > 0 {
				f.Write(b)
			}
		}
	}()
	return t, nil
}

// ev records event for every stamp in p, at one time taken first.
func (t *tracer) ev(event string, p []byte) {
	now := time.Now().UnixNano()
	for {
		i := indexStamp(p)
		if i < 0 {
			return
		}
		st, err := strconv.ParseUint(string(p[i+2:i+18]), 16, 64)
		p = p[i+18:]
		if err != nil {
			continue
		}
		t.mu.Lock()
		t.buf = append(t.buf, event...)
		t.buf = append(t.buf, ' ')
		t.buf = strconv.AppendUint(t.buf, st, 10)
		t.buf = append(t.buf, ' ')
		t.buf = strconv.AppendInt(t.buf, now, 10)
		t.buf = append(t.buf, '\n')
		t.mu.Unlock()
	}
}

// indexStamp is the index of the first `"T` followed by 16 bytes in p, or -1.
func indexStamp(p []byte) int {
	for i := 0; i+18 <= len(p); i++ {
		if p[i] == '"' && p[i+1] == 'T' {
			return i
		}
	}
	return -1
}

// traceBridge times a Bridge's Publish and the deliver it is started with.
type traceBridge struct {
	pubsub.Bridge
	t *tracer
}

func (b traceBridge) Publish(topic string, op frame.Opcode, p []byte) error {
	b.t.ev("bp", p)
	err := b.Bridge.Publish(topic, op, p)
	b.t.ev("bq", p)
	return err
}

func (b traceBridge) Start(deliver func(topic string, op frame.Opcode, p []byte) error) error {
	return b.Bridge.Start(func(topic string, op frame.Opcode, p []byte) error {
		b.t.ev("d", p)
		err := deliver(topic, op, p)
		b.t.ev("dd", p)
		return err
	})
}

// traceDialer is a nats.CustomDialer whose connections time their reads and
// writes. (nats.go then writes its buffers one Write each instead of one
// writev: a debugging run's cost.)
type traceDialer struct{ t *tracer }

func (d traceDialer) Dial(network, address string) (net.Conn, error) {
	c, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &traceConn{Conn: c, t: d.t}, nil
}

type traceConn struct {
	net.Conn
	t *tracer
}

func (c *traceConn) Write(p []byte) (int, error) {
	c.t.ev("w", p)
	n, err := c.Conn.Write(p)
	c.t.ev("wd", p[:n])
	return n, err
}

func (c *traceConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.t.ev("r", p[:max(n, 0)])
	return n, err
}
