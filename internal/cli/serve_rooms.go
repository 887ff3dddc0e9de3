package cli

import "github.com/weir-ws/weir/engine"

// Rooms: joining, leaving and the presence notices. Every change of a
// chatConn's room and every notice happens under presenceMu, so a node's
// notices for a room go out in the order its counts changed.

// move handles {"join":room} (leave the current room for room) and
// {"leave":room} (leave room, which must be the current one). A name is
// checked for length before it is looked up.
func (h *demoHandler) move(c *engine.Conn, cc *chatConn, join, leave string) {
	target := join
	if target == "" {
		target = leave
	}
	switch {
	case len(target) > maxRoomBytes:
		h.reply(c, "room name too long")
		return
	case !knownRoom(target):
		h.reply(c, "unknown room (there are lobby, dev and random)")
		return
	}
	h.presenceMu.Lock()
	defer h.presenceMu.Unlock()
	if join == "" {
		if cc.room != leave {
			h.reply(c, "not in room "+leave)
			return
		}
		h.exit(c, cc)
		h.send(c, chatEvent{Type: "presence", Event: "leave", Room: leave, Self: true, Node: h.node})
		return
	}
	if cc.room == join {
		h.welcome(c, cc.room) // already there: tell it again
		return
	}
	h.exit(c, cc)
	h.enter(c, cc, join)
}

// enter subscribes c to room, tells the room's others (here and on other
// nodes) and then c itself, with "self". Under presenceMu.
func (h *demoHandler) enter(c *engine.Conn, cc *chatConn, room string) {
	topic := roomTopic + room
	// The notice goes out before c subscribes, so c gets only its own
	// version; its count already includes c.
	ev := chatEvent{Type: "presence", Event: "join", Room: room, Node: h.node,
		Online: int64(h.hub.Subscribers(topic)) + 1}
	h.publish(room, ev)
	if err := h.hub.Subscribe(c, topic); err != nil {
		// c closed meanwhile (or the Hub did): the others heard of a join
		// that did not last, so tell them it is over.
		h.notice(room, "leave")
		return
	}
	cc.room = room
	h.welcome(c, room)
}

// welcome tells c of its own join of room. Under presenceMu.
func (h *demoHandler) welcome(c *engine.Conn, room string) {
	h.send(c, chatEvent{Type: "presence", Event: "join", Room: room, Self: true, Node: h.node,
		Online: int64(h.hub.Subscribers(roomTopic + room)), Rooms: chatRooms})
}

// exit unsubscribes c from its room, if any, and tells those who stay.
// Under presenceMu.
func (h *demoHandler) exit(c *engine.Conn, cc *chatConn) {
	if cc.room == "" {
		return
	}
	room := cc.room
	cc.room = ""
	h.hub.Unsubscribe(c, roomTopic+room)
	h.notice(room, "leave")
}

// notice publishes a presence event with room's count on this node. Under
// presenceMu.
func (h *demoHandler) notice(room, event string) {
	h.publish(room, chatEvent{Type: "presence", Event: event, Room: room, Node: h.node,
		Online: int64(h.hub.Subscribers(roomTopic + room))})
}
