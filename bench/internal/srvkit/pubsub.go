package srvkit

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
)

// The pub/sub servers (servers/ps*) take publishes on a plain TCP ingress, the
// same for every library, so that what the benchmark compares is the fan-out
// and not how a publish reaches the server. A publish on the wire is
//
//	u16 topic length | topic | u32 payload length | payload   (big endian)
//
// and a subscriber's first WebSocket message is the topic it subscribes to
// (centrifuge's clients use its own connect and subscribe commands instead).

// MaxIngressPayload bounds one publish's payload on the ingress.
const MaxIngressPayload = 1 << 20

// StartIngress listens on o.PubAddr and calls publish for every publish read,
// on one goroutine per ingress connection (the benchmark uses one). topic and
// payload are valid only during the call. Serve then reports the address in
// its LISTEN line as pub=.
func StartIngress(o *Options, publish func(topic string, payload []byte)) {
	ln, err := net.Listen("tcp", o.PubAddr)
	if err != nil {
		Fatal(err)
	}
	o.pubBound = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go readIngress(c, publish)
		}
	}()
}

func readIngress(c net.Conn, publish func(string, []byte)) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	var hdr [4]byte
	buf := make([]byte, 0, 8<<10)
	topics := map[string]string{} // interned, so a publish allocates no topic string
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		tl := int(binary.BigEndian.Uint16(hdr[:2]))
		if cap(buf) < tl {
			buf = make([]byte, tl)
		}
		if _, err := io.ReadFull(br, buf[:tl]); err != nil {
			return
		}
		topic, ok := topics[string(buf[:tl])]
		if !ok {
			topic = string(buf[:tl])
			topics[topic] = topic
		}
		if _, err := io.ReadFull(br, hdr[:4]); err != nil {
			return
		}
		pl := binary.BigEndian.Uint32(hdr[:4])
		if pl > MaxIngressPayload {
			fmt.Println("ingress: payload too large")
			return
		}
		if cap(buf) < int(pl) {
			buf = make([]byte, pl)
		}
		if _, err := io.ReadFull(br, buf[:pl]); err != nil {
			return
		}
		publish(topic, buf[:pl])
	}
}
