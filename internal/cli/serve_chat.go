package cli

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/pubsub"
	"github.com/weir-ws/weir/upgrade"
)

// The chat protocol, JSON text messages. A page is in one room at a time
// (chatRooms; "lobby" from the start). It sends
//
//	{"name":"ada","text":"hello"}          a message to its room
//	{"join":"dev"}                         leave its room for dev
//	{"leave":"dev"}                        leave dev (then in no room)
//
// and receives
//
//	{"type":"message","room":"lobby","name":"ada","text":"hello","time":1700000000000,"node":"127.0.0.1:8080"}
//	{"type":"presence","event":"join","room":"lobby","online":2,"node":"..."}   (and "leave")
//	{"type":"presence","event":"join","room":"lobby","self":true,"online":2,"node":"...","rooms":[...]}
//	{"type":"error","text":"..."}                                             (to the sender only)
//
// Each room is a topic on a pubsub.Hub ("chat.lobby"): a message and a
// presence notice are published once to the room's topic, so they reach the
// room's connections only, and, with a bridge (weir serve -nats), the room's
// connections on every node. "online" is the room's subscribers on the node
// that sent the notice (the Hub counts its own node), and "node" names that
// node (its listen address), so a page counts its own node's notices and
// tells the others' apart. A joining connection is told of its own join with
// "self" set, the room's others without it. Names and texts are trimmed and
// clipped on the server; the page renders them as text, never as HTML.

const (
	chatPath       = "/chat"
	maxChatMessage = 8 << 10 // bytes of JSON accepted from a chat client
	maxNameRunes   = 32
	maxTextRunes   = 1000
	maxRoomBytes   = 32 // a longer room name is refused before it is looked up
	defaultRoom    = "lobby"
	roomTopic      = "chat." // + room: the room's pubsub topic
)

// chatRooms are the rooms a page may join. A fixed set: room names come from
// clients, and a topic per name a client makes up would let one client pin
// Hub state (and, in a cluster, NATS interest) at will.
var chatRooms = []string{"lobby", "dev", "random"}

func knownRoom(r string) bool {
	for _, k := range chatRooms {
		if r == k {
			return true
		}
	}
	return false
}

// chatConn is a chat connection's user data: its room, "" when in none,
// read and written under demoHandler.presenceMu.
type chatConn struct{ room string }

// tagRole is the Upgrader's verify hook: /chat joins the chat (its own
// chatConn), any other path echoes (no user data).
func tagRole(r *upgrade.Request, d *upgrade.Decision) {
	if r.Path() == chatPath {
		d.SetUserValue(&chatConn{})
	}
}

func chatOf(c *engine.Conn) *chatConn {
	cc, _ := c.UserData().(*chatConn)
	return cc
}

// demoHandler serves both roles and keeps the counters /stats reports. Bytes are
// payload bytes (what the application sent and received, no frame headers).
type demoHandler struct {
	engine.NopHandler
	hub  *pubsub.Hub
	node string // this node's name in notices: its listen address

	chat, echo        atomic.Int64 // open connections by role
	msgsIn, msgsOut   atomic.Uint64
	bytesIn, bytesOut atomic.Uint64

	// presenceMu orders a node's join and leave notices, so every page sees
	// its node's online counts in the order they changed and ends on the
	// current one. It also guards every chatConn's room.
	presenceMu sync.Mutex
}

type chatEvent struct {
	Type   string   `json:"type"` // "message", "presence" or "error"
	Event  string   `json:"event,omitempty"`
	Room   string   `json:"room,omitempty"`
	Name   string   `json:"name,omitempty"`
	Text   string   `json:"text,omitempty"`
	Time   int64    `json:"time,omitempty"` // Unix milliseconds, server clock
	Online int64    `json:"online,omitempty"`
	Self   bool     `json:"self,omitempty"`  // presence: the event is the recipient's own join
	Node   string   `json:"node,omitempty"`  // the node that sent it
	Rooms  []string `json:"rooms,omitempty"` // own join: the rooms there are
}

func (h *demoHandler) OnOpen(c *engine.Conn) {
	if cc := chatOf(c); cc != nil {
		h.chat.Add(1)
		h.presenceMu.Lock()
		defer h.presenceMu.Unlock()
		h.enter(c, cc, defaultRoom)
		return
	}
	h.echo.Add(1)
}

func (h *demoHandler) OnClose(c *engine.Conn, _ frame.StatusCode, _ string, _ error) {
	if cc := chatOf(c); cc != nil {
		h.chat.Add(-1)
		// The Hub dropped c's subscription before OnClose (Conn.AfterClose),
		// so the notice goes to those who stay.
		h.presenceMu.Lock()
		defer h.presenceMu.Unlock()
		if cc.room != "" {
			h.notice(cc.room, "leave")
			cc.room = ""
		}
		return
	}
	h.echo.Add(-1)
}

func (h *demoHandler) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	h.msgsIn.Add(1)
	h.bytesIn.Add(uint64(len(p)))
	if cc := chatOf(c); cc != nil {
		h.onChat(c, cc, op, p)
		return
	}
	if c.WriteMessage(op, p) == nil {
		h.sent(1, len(p))
	}
}

// onChat checks one chat message and acts on it. A malformed one is answered
// to its sender only; the connection stays open.
func (h *demoHandler) onChat(c *engine.Conn, cc *chatConn, op frame.Opcode, p []byte) {
	var in struct{ Name, Text, Join, Leave string }
	switch {
	case op != frame.OpText:
		h.reply(c, "chat messages are JSON text")
		return
	case len(p) > maxChatMessage:
		h.reply(c, "message too long")
		return
	case json.Unmarshal(p, &in) != nil:
		h.reply(c, `expected {"name":"...","text":"..."}, {"join":"room"} or {"leave":"room"}`)
		return
	case in.Join != "" || in.Leave != "":
		h.move(c, cc, in.Join, in.Leave)
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
	h.presenceMu.Lock()
	room := cc.room
	h.presenceMu.Unlock()
	if room == "" {
		h.reply(c, "join a room first")
		return
	}
	ev := chatEvent{Type: "message", Room: room, Name: name, Text: text, Time: time.Now().UnixMilli(), Node: h.node}
	if err := h.publish(room, ev); err != nil {
		h.reply(c, "not sent to the other nodes: "+err.Error())
	}
}

func (h *demoHandler) reply(c *engine.Conn, text string) {
	h.send(c, chatEvent{Type: "error", Text: text})
}

// send writes ev to c alone.
func (h *demoHandler) send(c *engine.Conn, ev chatEvent) {
	b, err := json.Marshal(ev)
	if err == nil && c.WriteMessage(frame.OpText, b) == nil {
		h.sent(1, len(b))
	}
}

// publish encodes ev once and publishes it to room's topic: to the room's
// connections here and, with a bridge, on the other nodes. The error is the
// bridge's (the local fan-out has happened).
func (h *demoHandler) publish(room string, ev chatEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil // a chatEvent always encodes
	}
	n, err := h.hub.Publish(roomTopic+room, frame.OpText, b)
	h.sent(n, len(b))
	return err
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
