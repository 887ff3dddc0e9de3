package interop

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// Resource cases of the bad-peer suite: slow drip, a peer that never reads, a
// ping flood, peers that go silent or vanish. This file holds the table and the
// helpers; the cases are in badpeer_drip_test.go, badpeer_buffer_test.go and
// badpeer_silent_test.go. Each case runs once per engine mode, one at a time
// (the buffer cases measure the heap).

type resourceCase struct {
	name, rule, expect string
	run                func(logf func(format string, args ...any), m badMode) error
}

var resourceCases = []resourceCase{
	{name: "drip: handshake, frames and close one byte at a time", rule: "§5.4 / §7: input arrives in any cut",
		expect: "101; text, fragmented and binary messages echoed; pong; close 1000 answered", run: dripServer},
	{name: "drip: a server's 101 and frames one byte at a time", rule: "§4.1, §5",
		expect: "Dial succeeds; message delivered; ping answered; close answered", run: dripClient},
	{name: "endless header block, one line at a time", rule: "Limits.MaxHeaderBytes (slowloris)",
		expect: "HTTP 431 before HandshakeTimeout", run: endlessHeaders},
	{name: "request never completes", rule: "Config.HandshakeTimeout",
		expect: "TCP closed with no answer; no connection held", run: handshakeTimeout},
	{name: "never reads: WriteBufferError", rule: "Config.MaxWriteBuffer, policy WriteBufferError",
		expect: "BufferedAmount ≤ MaxWriteBuffer; ErrWriteBufferFull; every accepted message arrives in order", run: neverReads(engine.WriteBufferError)},
	{name: "never reads: WriteBufferDrop", rule: "Config.MaxWriteBuffer, policy WriteBufferDrop",
		expect: "BufferedAmount ≤ MaxWriteBuffer; ErrMessageDropped; accepted messages arrive whole and in order", run: neverReads(engine.WriteBufferDrop)},
	{name: "never reads: WriteBufferClose", rule: "Config.MaxWriteBuffer, policy WriteBufferClose",
		expect: "BufferedAmount ≤ MaxWriteBuffer; ErrSlowConsumer; OnClose 1008", run: neverReads(engine.WriteBufferClose)},
	{name: "ping flood, never reads", rule: "§5.5.3: only the latest pong is owed",
		expect: "BufferedAmount stays under 1 KiB; the last pong carries the last ping", run: pingFlood},
	{name: "silent client (half-open)", rule: "Config.PingInterval / PongTimeout",
		expect: "keepalive ping, then OnClose 1006 engine.ErrPeerTimeout", run: silentClient},
	{name: "silent server (half-open)", rule: "Config.PingInterval / PongTimeout (client)",
		expect: "OnClose 1006 engine.ErrPeerTimeout", run: silentServer},
	{name: "violator never hangs up", rule: "§7.1.7: fail, then close TCP within Config.CloseTimeout",
		expect: "close 1002, then OnClose and the socket closed by CloseTimeout", run: violatorStays},
	{name: "peer never answers weir's close", rule: "§7.1.2: Config.CloseTimeout",
		expect: "OnClose 1006 engine.ErrCloseTimeout by CloseTimeout", run: closeUnanswered},
	{name: "peer vanishes mid-frame", rule: "§7.1.5: no close frame",
		expect: "OnClose 1006 engine.ErrAbnormalClosure", run: vanishMidFrame},
	{name: "data after the close frame", rule: "§5.5.1: nothing after close",
		expect: "close 1000 answered; the data is not delivered; OnClose 1000, no error", run: dataAfterClose},
}

// heapInUse after a GC.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// openRaw starts weir's server with cfg and opens one connection to it.
func openRaw(rec *recorder, cfg engine.Config) (*engine.Server, *rawConn, *engine.Conn, error) {
	srv, addr, err := startBadServer(rec, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	r, resp, err := rawHandshake(addr, stdReq().bytes(addr), false)
	if err != nil {
		closeServer(srv)
		return nil, nil, nil, err
	}
	if resp.StatusCode != 101 {
		closeServer(srv)
		return nil, nil, nil, fmt.Errorf("handshake status %d", resp.StatusCode)
	}
	select {
	case c := <-rec.open:
		return srv, r, c, nil
	case <-time.After(badTimeout):
		closeServer(srv)
		return nil, nil, nil, errors.New("no OnOpen")
	}
}

// writeWithin is WriteMessage that gives up waiting after badTimeout (blocked is
// then true, and the write goes on in the background).
func writeWithin(c *engine.Conn, op frame.Opcode, p []byte) (err error, blocked bool) {
	ch := make(chan error, 1)
	go func() { ch <- c.WriteMessage(op, p) }()
	select {
	case err := <-ch:
		return err, false
	case <-time.After(badTimeout):
		return nil, true
	}
}
