package cli

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// catPrinter serialises weir cat's output. Messages go to out, everything else
// (notices, pings, pongs, warnings) to errw, so that out carries only what the
// server sent. With prompt set (an interactive terminal) each line first clears
// the prompt line, and the prompt is redrawn after it.
type catPrinter struct {
	mu     sync.Mutex
	out    io.Writer
	errw   io.Writer
	prompt bool
}

// message prints one received message.
func (p *catPrinter) message(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prompt {
		// A terminal: the server's control characters are shown, not obeyed.
		io.WriteString(p.out, "\r\x1b[K< "+termSafe(s, true)+"\n> ")
		return
	}
	io.WriteString(p.out, s+"\n")
}

// notef prints a line to errw.
func (p *catPrinter) notef(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf(format, a...)
	if p.prompt {
		io.WriteString(p.errw, "\r\x1b[K"+line+"\n")
		io.WriteString(p.out, "> ")
		return
	}
	io.WriteString(p.errw, line+"\n")
}

// end leaves the prompt line for good, so the shell's prompt starts on a line
// of its own.
func (p *catPrinter) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prompt {
		io.WriteString(p.out, "\r\x1b[K")
		p.prompt = false
	}
}

// catFormatMessage renders a received message as one line (unless text or raw
// binary holds newlines of its own).
func catFormatMessage(op frame.Opcode, p []byte, binaryFormat string) string {
	if op == frame.OpText {
		return string(p)
	}
	switch binaryFormat {
	case catFormatBase64:
		return base64.StdEncoding.EncodeToString(p)
	case catFormatSize:
		return "<binary " + strconv.Itoa(len(p)) + " bytes>"
	case catFormatRaw:
		return string(p)
	}
	return hex.EncodeToString(p)
}

// catCloseText renders a close status: "1000 normal closure", "4001 \"reason\"".
func catCloseText(code frame.StatusCode, reason string) string {
	s := strconv.Itoa(int(code))
	if name := code.String(); !strings.HasPrefix(name, "StatusCode(") {
		s += " " + name
	}
	if reason != "" {
		s += " " + strconv.Quote(reason)
	}
	return s
}

// catMaxPendingPings bounds the ping send times kept for a server that never
// answers.
const catMaxPendingPings = 64

// catHandler receives the connection's events and prints them. The engine never
// overlaps its calls for one connection, so the fields it alone uses (n) need no
// lock.
type catHandler struct {
	engine.NopHandler
	p            *catPrinter
	binaryFormat string
	showPingPong bool
	// limit is how many messages to print (one-shot mode prints the first reply
	// only); 0 prints all.
	limit int
	n     int

	ready   chan struct{} // closed once the "connected" notice is out
	got     chan struct{} // closed at the first message
	drained chan struct{} // OnDrain's signal, for writes waiting on backpressure
	done    chan struct{} // closed by OnClose, after code, reason and err are set

	code   frame.StatusCode
	reason string
	err    error

	pingMu sync.Mutex
	pings  map[string]time.Time // payload -> when we sent it
}

func newCatHandler(p *catPrinter, o *catOptions) *catHandler {
	h := &catHandler{
		p: p, binaryFormat: o.binaryFormat, showPingPong: o.showPingPong,
		ready: make(chan struct{}), got: make(chan struct{}),
		drained: make(chan struct{}, 1), done: make(chan struct{}),
		pings: make(map[string]time.Time),
	}
	if len(o.execute) > 0 && o.wait == 0 {
		h.limit = 1
	}
	return h
}

func (h *catHandler) OnMessage(_ *engine.Conn, op frame.Opcode, p []byte) {
	<-h.ready
	h.n++
	if h.limit > 0 && h.n > h.limit {
		return
	}
	h.p.message(catFormatMessage(op, p, h.binaryFormat))
	if h.n == 1 {
		close(h.got)
	}
}

func (h *catHandler) OnPing(_ *engine.Conn, p []byte) bool {
	<-h.ready
	if h.showPingPong {
		h.p.notef("< ping %q", p)
	}
	return true
}

func (h *catHandler) OnPong(_ *engine.Conn, p []byte) {
	<-h.ready
	h.pingMu.Lock()
	sent, ok := h.pings[string(p)]
	delete(h.pings, string(p))
	h.pingMu.Unlock()
	switch {
	case ok:
		h.p.notef("< pong %q rtt %v", p, time.Since(sent).Round(time.Microsecond))
	case h.showPingPong:
		h.p.notef("< pong %q", p)
	}
}

func (h *catHandler) OnDrain(*engine.Conn) {
	select {
	case h.drained <- struct{}{}:
	default:
	}
}

func (h *catHandler) OnClose(_ *engine.Conn, code frame.StatusCode, reason string, err error) {
	h.code, h.reason, h.err = code, reason, err
	close(h.done)
}

// ping sends a ping and notes when, for the pong's round trip.
func (h *catHandler) ping(c *engine.Conn, payload string) error {
	h.pingMu.Lock()
	if len(h.pings) >= catMaxPendingPings {
		clear(h.pings)
	}
	h.pings[payload] = time.Now()
	h.pingMu.Unlock()
	return c.Ping([]byte(payload))
}
