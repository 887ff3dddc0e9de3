package cli

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The chat protocol, JSON text messages. The page sends
//
//	{"name":"ada","text":"hello"}
//
// and every chat connection, the sender included, receives
//
//	{"type":"message","name":"ada","text":"hello","time":1700000000000}
//	{"type":"presence","event":"join","online":2}     (and "leave")
//	{"type":"presence","event":"join","self":true,"online":2}   (to the joiner only)
//	{"type":"error","text":"..."}                     (to the sender only)
//
// A joining connection is told of its own join with "self" set, and the others
// without it, so the joining page can say "you joined" rather than "someone
// joined". Names and texts are trimmed and clipped on the server; the page
// renders them as text, never as HTML.

const (
	chatPath       = "/chat"
	maxChatMessage = 8 << 10 // bytes of JSON accepted from a chat client
	maxNameRunes   = 32
	maxTextRunes   = 1000
)

// role is what a connection is for, chosen from the handshake path by tagRole
// and kept as the connection's user data.
type role uint8

const (
	roleEcho role = iota
	roleChat
)

// tagRole is the Upgrader's verify hook: /chat joins the chat, any other path
// echoes. A role is a one-byte value, so storing it allocates nothing.
func tagRole(r *upgrade.Request, d *upgrade.Decision) {
	if r.Path() == chatPath {
		d.SetUserValue(roleChat)
	} else {
		d.SetUserValue(roleEcho)
	}
}

func roleOf(c *engine.Conn) role {
	r, _ := c.UserData().(role)
	return r
}

func isChat(c *engine.Conn) bool { return roleOf(c) == roleChat }

// demoHandler serves both roles and keeps the counters /stats reports. Bytes are
// payload bytes (what the application sent and received, no frame headers).
type demoHandler struct {
	engine.NopHandler
	srv *engine.Server

	chat, echo        atomic.Int64 // open connections by role
	msgsIn, msgsOut   atomic.Uint64
	bytesIn, bytesOut atomic.Uint64

	// presenceMu orders join and leave notices, so every page sees the online
	// counts in the order they changed and ends on the current one.
	presenceMu sync.Mutex
}

type chatEvent struct {
	Type   string `json:"type"` // "message", "presence" or "error"
	Event  string `json:"event,omitempty"`
	Name   string `json:"name,omitempty"`
	Text   string `json:"text,omitempty"`
	Time   int64  `json:"time,omitempty"` // Unix milliseconds, server clock
	Online int64  `json:"online,omitempty"`
	Self   bool   `json:"self,omitempty"` // presence: the event is the recipient's own join
}

func (h *demoHandler) OnOpen(c *engine.Conn) {
	if isChat(c) {
		h.join(c)
		return
	}
	h.echo.Add(1)
}

func (h *demoHandler) OnClose(c *engine.Conn, _ frame.StatusCode, _ string, _ error) {
	if isChat(c) {
		// The closing connection is no longer open, so it is not among the recipients.
		h.presence("leave", -1)
		return
	}
	h.echo.Add(-1)
}

func (h *demoHandler) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	h.msgsIn.Add(1)
	h.bytesIn.Add(uint64(len(p)))
	if isChat(c) {
		h.onChat(c, op, p)
		return
	}
	if c.WriteMessage(op, p) == nil {
		h.sent(1, len(p))
	}
}

// onChat checks one chat message and broadcasts it. A malformed one is answered
// to its sender only; the connection stays open.
func (h *demoHandler) onChat(c *engine.Conn, op frame.Opcode, p []byte) {
	var in struct{ Name, Text string }
	switch {
	case op != frame.OpText:
		h.reply(c, "chat messages are JSON text")
		return
	case len(p) > maxChatMessage:
		h.reply(c, "message too long")
		return
	case json.Unmarshal(p, &in) != nil:
		h.reply(c, `expected {"name":"...","text":"..."}`)
		return
	}
	text := clip(in.Text, maxTextRunes)
	if text == "" {
		return
	}
	name := clip(in.Name, maxNameRunes)
	if name == "" {
		name = "anonymous"
	}
	h.broadcast(chatEvent{Type: "message", Name: name, Text: text, Time: time.Now().UnixMilli()})
}

// presence counts a chat connection in or out and tells every chat connection.
func (h *demoHandler) presence(event string, delta int64) {
	h.presenceMu.Lock()
	defer h.presenceMu.Unlock()
	h.broadcast(chatEvent{Type: "presence", Event: event, Online: h.chat.Add(delta)})
}

// join counts c in and tells it of its own join ("self") and every other chat
// connection of someone's.
func (h *demoHandler) join(c *engine.Conn) {
	h.presenceMu.Lock()
	defer h.presenceMu.Unlock()
	ev := chatEvent{Type: "presence", Event: "join", Online: h.chat.Add(1)}
	h.broadcastTo(ev, func(o *engine.Conn) bool { return o != c && isChat(o) })
	ev.Self = true
	if b, err := json.Marshal(ev); err == nil && c.WriteMessage(frame.OpText, b) == nil {
		h.sent(1, len(b))
	}
}

// broadcast encodes ev once and sends it to every open chat connection.
func (h *demoHandler) broadcast(ev chatEvent) { h.broadcastTo(ev, isChat) }

// broadcastTo encodes ev once and sends it to every connection filter accepts.
func (h *demoHandler) broadcastTo(ev chatEvent, filter func(*engine.Conn) bool) {
	b, err := json.Marshal(ev)
	if err != nil {
		return // a chatEvent always encodes
	}
	n := h.srv.Broadcast(engine.NewPreparedMessage(frame.OpText, b), filter)
	h.sent(n, len(b))
}

func (h *demoHandler) reply(c *engine.Conn, text string) {
	b, err := json.Marshal(chatEvent{Type: "error", Text: text})
	if err == nil && c.WriteMessage(frame.OpText, b) == nil {
		h.sent(1, len(b))
	}
}

func (h *demoHandler) sent(msgs, size int) {
	h.msgsOut.Add(uint64(msgs))
	h.bytesOut.Add(uint64(msgs) * uint64(size))
}

// clip trims s and cuts it to at most n runes.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	i := 0
	for j := range s {
		if i == n {
			return strings.TrimSpace(s[:j])
		}
		i++
	}
	return s
}
