package pubsub

import (
	"strings"
	"testing"
	"unsafe"
	"weak"
)

// TestNamesDoNotPinTheirMessage: a name often comes from a client, cut out
// of the message that carried it ("sub room.1" + padding, made a string and
// split). A substring shares its whole message's bytes, so an index that
// keeps the name as given keeps the message: before the fix one client
// could pin MaxTopicsPerConn messages of the engine's largest size with
// names of a few bytes, far past the bound Config.MaxTopicsPerConn states.
// The Hub now keeps copies of the names it stores.
func TestNamesDoNotPinTheirMessage(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, 1)
	_, c := dialRaw(t, s, true)
	h := newHub(t, &Config{Bridge: newFakeBridge()})

	// name returns prefix cut out of a 64 KiB message, and a weak pointer
	// to that message's bytes.
	name := func(prefix string) (string, weak.Pointer[byte]) {
		msg := prefix + " " + strings.Repeat("x", 64<<10)
		return msg[:len(prefix)], weak.Make(unsafe.StringData(msg))
	}
	var msgs []weak.Pointer[byte]
	for _, p := range []string{"room.1", "room.*", "lobby.>"} {
		n, w := name(p)
		if err := h.Subscribe(c, n); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, w)
	}
	for i, w := range msgs {
		if !collected(w) {
			t.Errorf("subscription %d keeps the 64 KiB message its name was cut from", i)
		}
	}
	if got := h.Topics(c); len(got) != 3 || got[0] != "lobby.>" || got[1] != "room.*" || got[2] != "room.1" {
		t.Errorf("Topics = %q", got)
	}
}
