package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
)

// joinRoom moves c to room and reads c's events up to its own join of it.
func joinRoom(t *testing.T, c *engine.Conn, room string) chatEvent {
	t.Helper()
	if err := c.WriteText(`{"join":"` + room + `"}`); err != nil {
		t.Fatal(err)
	}
	for {
		ev := readEvent(t, c)
		switch {
		case ev.Type == "presence" && ev.Self && ev.Room == room:
			return ev
		case ev.Type != "presence":
			t.Fatalf("joining %s: %+v", room, ev)
		}
	}
}

// nextMessage reads c's events, presence notices aside, up to the next
// message or error.
func nextMessage(t *testing.T, c *engine.Conn) chatEvent {
	t.Helper()
	for {
		if ev := readEvent(t, c); ev.Type != "presence" {
			return ev
		}
	}
}

// waitDelivered waits until the Hub has delivered n messages in all: a
// publish counts its deliveries after its last write.
func waitDelivered(t *testing.T, d *demo, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.hub.Stats().Delivered < n {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d, want %d", d.hub.Stats().Delivered, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeChatRooms: a message reaches the connections of its room and no
// other; each client's room is given, client 0 speaks.
func TestServeChatRooms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rooms []string
	}{
		{"all in the lobby", []string{"lobby", "lobby", "lobby"}},
		{"alone in dev", []string{"dev", "lobby", "random"}},
		{"two rooms", []string{"random", "random", "dev", "lobby", "dev"}},
		{"moved twice", []string{"dev", "random", "lobby"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := startTestDemo(t, demoOptions{})
			var cs []*engine.Conn
			for i, room := range tt.rooms {
				c := dialDemo(t, d, "/chat", nil)
				if ev := readEvent(t, c); !ev.Self || ev.Room != defaultRoom || strings.Join(ev.Rooms, ",") != "lobby,dev,random" {
					t.Fatalf("client %d's welcome: %+v", i, ev)
				}
				if tt.name == "moved twice" {
					joinRoom(t, c, "dev")
				}
				if room != defaultRoom || tt.name == "moved twice" {
					joinRoom(t, c, room)
				}
				cs = append(cs, c)
			}
			counts := map[string]int{}
			for _, r := range tt.rooms {
				counts[r]++
			}
			s := getStats(t, d)
			for _, r := range chatRooms {
				if s.Rooms[r] != counts[r] {
					t.Fatalf("/stats rooms %v, want %v", s.Rooms, counts)
				}
			}

			before := d.hub.Stats().Delivered
			if err := cs[0].WriteText(`{"name":"ada","text":"to ` + tt.rooms[0] + `"}`); err != nil {
				t.Fatal(err)
			}
			waitDelivered(t, d, before+uint64(counts[tt.rooms[0]]))
			// Anything from that publish was written before the delivery
			// count moved: in each other room, before the marker its first
			// client sends now.
			marker := map[string]string{}
			for i, c := range cs {
				if r := tt.rooms[i]; r != tt.rooms[0] && marker[r] == "" {
					marker[r] = fmt.Sprintf("marker from %d", i)
					if err := c.WriteText(`{"text":"` + marker[r] + `"}`); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, c := range cs {
				if r := tt.rooms[i]; r != tt.rooms[0] {
					if ev := nextMessage(t, c); ev.Text != marker[r] || ev.Room != r {
						t.Fatalf("client %d in %s got %+v, want only %q", i, r, ev, marker[r])
					}
					continue
				}
				ev := nextMessage(t, c)
				if ev.Type != "message" || ev.Name != "ada" || ev.Text != "to "+tt.rooms[0] || ev.Room != tt.rooms[0] || ev.Node != d.Addr().String() {
					t.Fatalf("client %d in %s got %+v", i, tt.rooms[i], ev)
				}
			}
		})
	}
}

// TestServeChatRoomPresence: counts are per room, and a move is a leave in
// one room and a join in the other.
func TestServeChatRoomPresence(t *testing.T) {
	t.Parallel()
	d := startTestDemo(t, demoOptions{})
	ada := dialDemo(t, d, "/chat", nil)
	awaitOnline(t, ada, 1)
	bob := dialDemo(t, d, "/chat", nil)
	awaitOnline(t, bob, 2)
	awaitOnline(t, ada, 2)
	if ev := joinRoom(t, bob, "dev"); ev.Online != 1 {
		t.Fatalf("bob alone in dev: %+v", ev)
	}
	if ev := readEvent(t, ada); ev.Event != "leave" || ev.Room != "lobby" || ev.Online != 1 || ev.Self {
		t.Fatalf("ada on bob's move: %+v", ev)
	}
	if err := bob.WriteText(`{"leave":"dev"}`); err != nil {
		t.Fatal(err)
	}
	if ev := readEvent(t, bob); ev.Event != "leave" || ev.Room != "dev" || !ev.Self {
		t.Fatalf("bob's own leave: %+v", ev)
	}
	if s := getStats(t, d); s.Rooms["dev"] != 0 || s.Rooms["lobby"] != 1 || s.Connections.Chat != 2 {
		t.Fatalf("/stats after bob left dev: rooms %v, connections %+v", s.Rooms, s.Connections)
	}
	// ada's join of dev is not told to the lobby, which she leaves, as a join.
	if ev := joinRoom(t, ada, "dev"); ev.Online != 1 || ev.Node != d.Addr().String() {
		t.Fatalf("ada's join of dev: %+v", ev)
	}
}

// TestServeChatRoomRejects: bad room requests are answered to the sender
// with an error, change nothing, and the connection stays usable.
func TestServeChatRoomRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []string // sent in turn; the last is answered with an error holding want
		want  string
	}{
		{"unknown room", []string{`{"join":"kitchen"}`}, "unknown room"},
		{"case matters", []string{`{"join":"Lobby"}`}, "unknown room"},
		{"topic syntax", []string{`{"join":"dev.>"}`}, "unknown room"},
		{"over-long room", []string{`{"join":"` + strings.Repeat("a", maxRoomBytes+1) + `"}`}, "too long"},
		{"over-long leave", []string{`{"leave":"` + strings.Repeat("é", maxRoomBytes) + `"}`}, "too long"},
		{"leave a room not in", []string{`{"leave":"dev"}`}, "not in room"},
		{"room not a string", []string{`{"join":["dev"]}`}, "expected"},
		{"speak in no room", []string{`{"leave":"lobby"}`, `{"text":"anyone?"}`}, "join a room first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := startTestDemo(t, demoOptions{})
			c := dialDemo(t, d, "/chat", nil)
			awaitOnline(t, c, 1)
			for _, s := range tt.steps {
				if err := c.WriteText(s); err != nil {
					t.Fatal(err)
				}
			}
			if ev := nextMessage(t, c); ev.Type != "error" || !strings.Contains(ev.Text, tt.want) {
				t.Fatalf("got %+v, want an error about %q", ev, tt.want)
			}
			// Still usable: in a room (the lobby unless it left), speaking.
			joinRoom(t, c, "random")
			if err := c.WriteText(`{"text":"still here"}`); err != nil {
				t.Fatal(err)
			}
			if ev := nextMessage(t, c); ev.Type != "message" || ev.Text != "still here" || ev.Room != "random" {
				t.Fatalf("got %+v, want the message back in random", ev)
			}
		})
	}
}

// TestServeNoNATS: this build has no NATS, and -nats says which one has.
func TestServeNoNATS(t *testing.T) {
	t.Parallel()
	err := serve([]string{"-addr", "127.0.0.1:0", "-nats", "nats://127.0.0.1:4222"}, Hooks{})
	if err == nil || !strings.Contains(err.Error(), natsBuild) {
		t.Fatalf("serve -nats: %v, want an error naming %s", err, natsBuild)
	}
}
