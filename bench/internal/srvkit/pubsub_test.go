package srvkit

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"
)

func frame(topic string, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(topic)))
	b = append(b, topic...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// TestIngress: publishes written in pieces arrive whole and in order; a payload
// over MaxIngressPayload ends the connection instead of being allocated.
func TestIngress(t *testing.T) {
	t.Parallel()
	type pub struct{ topic, payload string }
	got := make(chan pub, 16)
	o := &Options{PubAddr: "127.0.0.1:0"}
	StartIngress(o, func(topic string, p []byte) { got <- pub{topic, string(p)} })
	c, err := net.Dial("tcp", o.pubBound)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := []pub{{"room.1", "a"}, {"room.2", strings.Repeat("x", 70000)}, {"room.1", ""}}
	var all []byte
	for _, w := range want {
		all = append(all, frame(w.topic, []byte(w.payload))...)
	}
	for i := 0; i < len(all); i += 7 { // split at odd points
		c.Write(all[i:min(i+7, len(all))])
	}
	for _, w := range want {
		select {
		case g := <-got:
			if g != w {
				t.Fatalf("got %q/%d bytes, want %q/%d", g.topic, len(g.payload), w.topic, len(w.payload))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("publish not delivered")
		}
	}
	big := binary.BigEndian.AppendUint16(nil, 1)
	big = append(big, 't')
	big = binary.BigEndian.AppendUint32(big, MaxIngressPayload+1)
	c.Write(big)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); err == nil || ok && ne.Timeout() {
		t.Fatalf("connection still open after an oversized payload (%v)", err)
	}
}
