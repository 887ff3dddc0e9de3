package w3c

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// The event goroutine: it dials, then dispatches what the engine reported, in
// order, until the close event. The engine's callbacks (handler) only queue.

type msgEvent struct {
	op   frame.Opcode
	data []byte
}

type closeEvent struct {
	code   frame.StatusCode
	reason string
	err    error
}

// handler queues the engine's events for the event goroutine.
type handler struct {
	engine.NopHandler
	ws *WebSocket
}

func (h handler) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	h.ws.push(c, msgEvent{op, append([]byte(nil), p...)})
}

func (h handler) OnClose(c *engine.Conn, code frame.StatusCode, reason string, err error) {
	h.ws.push(c, closeEvent{code, reason, err})
}

// push queues ev; a full queue (maxQueued events or maxQueuedBytes of
// messages) stops the connection reading until pop has made room (a close
// event is queued regardless: there is one).
func (ws *WebSocket) push(c *engine.Conn, ev any) {
	ws.mu.Lock()
	ws.queue = append(ws.queue, ev)
	ws.qbytes += eventSize(ev)
	pause := (len(ws.queue) >= maxQueued || ws.qbytes >= maxQueuedBytes) && !ws.paused
	if pause {
		ws.paused = true
	}
	ws.mu.Unlock()
	if pause {
		c.PauseRead()
	}
	select {
	case ws.wake <- struct{}{}:
	default:
	}
}

// pop waits for the next queued event, and resumes reading once the queue is
// half empty, in events and in bytes.
func (ws *WebSocket) pop() any {
	for {
		ws.mu.Lock()
		if len(ws.queue) > 0 {
			ev := ws.queue[0]
			ws.queue[0] = nil
			ws.queue = ws.queue[1:]
			ws.qbytes -= eventSize(ev)
			resume := ws.paused && len(ws.queue) <= maxQueued/2 && ws.qbytes < maxQueuedBytes/2
			if resume {
				ws.paused = false
			}
			c := ws.conn
			ws.mu.Unlock()
			if resume {
				c.ResumeRead()
			}
			return ev
		}
		ws.mu.Unlock()
		<-ws.wake
	}
}

func (ws *WebSocket) run(ctx context.Context) {
	defer close(ws.done)
	defer ws.cancel()
	dopts := &engine.DialOptions{
		Handler: handler{ws: ws}, Subprotocols: ws.protocols, Origin: ws.o.Origin, Header: ws.o.Header,
		TLSConfig: ws.o.TLSConfig, HandshakeTimeout: ws.o.HandshakeTimeout, Compression: ws.o.Compression,
	}
	dial := engine.Dial
	if ws.o.Client != nil {
		dial = ws.o.Client.Dial
	}
	c, resp, err := dial(ctx, ws.url, dopts)
	if err != nil {
		// Failing the connection (WHATWG: error, then close with 1006).
		ws.mu.Lock()
		ws.state = Closed
		ws.mu.Unlock()
		ws.dispatchError(err)
		ws.dispatchClose(int(frame.StatusAbnormalClosure), "", false)
		return
	}
	ws.mu.Lock()
	ws.conn = c
	ws.protocol = c.Subprotocol()
	if resp != nil {
		ws.extensions = resp.Header.Get("Sec-WebSocket-Extensions")
	}
	abandoned := ws.state == Closing // Close while the dial was finishing
	if !abandoned {
		ws.state = Open
	}
	ws.mu.Unlock()
	if abandoned {
		c.Abort() // its close event (1006, ErrAborted) ends the loop below
	} else {
		listen(ws, "open", ws.o.OnOpen, Event{Target: ws})
	}
	for {
		switch ev := ws.pop().(type) {
		case msgEvent:
			// Messages that arrive once Close was called are dropped, as a
			// browser drops them while CLOSING.
			if ws.ReadyState() != Open || ws.o.OnMessage == nil {
				continue
			}
			var data any = ev.data
			if ev.op == frame.OpText {
				data = string(ev.data)
			}
			listen(ws, "message", ws.o.OnMessage, MessageEvent{Target: ws, Data: data})
		case closeEvent:
			ws.mu.Lock()
			ws.state = Closed
			ws.mu.Unlock()
			if ev.err != nil {
				ws.dispatchError(ev.err)
			}
			ws.dispatchClose(int(ev.code), ev.reason, ev.err == nil)
			return
		}
	}
}

func (ws *WebSocket) dispatchError(err error) {
	listen(ws, "error", ws.o.OnError, ErrorEvent{Target: ws, Err: err})
}

func (ws *WebSocket) dispatchClose(code int, reason string, clean bool) {
	listen(ws, "close", ws.o.OnClose, CloseEvent{Target: ws, Code: code, Reason: reason, WasClean: clean})
}

// listen runs one callback (none when f is nil). A panic in it is reported
// and goes no further (WHATWG: an exception in an event listener is
// reported, and dispatch goes on), so that a bad listener neither kills the
// process nor leaves the connection without its close event.
func listen[E any](ws *WebSocket, name string, f func(E), ev E) {
	if f == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			log := ws.o.Logger
			if log == nil {
				log = slog.Default()
			}
			log.Error("w3c: a callback panicked", "event", name, "url", ws.url, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	f(ev)
}

// queuedBytes is the size of the messages queued (under mu).
func (ws *WebSocket) queuedBytes() int { return ws.qbytes }

// eventSize is what ev counts against maxQueuedBytes.
func eventSize(ev any) int {
	if m, ok := ev.(msgEvent); ok {
		return len(m.data)
	}
	return 0
}
