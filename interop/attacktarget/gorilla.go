package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// serveGorilla is -mode gorilla: the same echo served by gorilla/websocket on
// net/http (a goroutine per connection, blocking writes), the reference the
// attack cases compare weir's latency with under the same attack on the same
// machine. It prints the ready line as main does; /mem reports the process's
// memory and connection count (no engine totals).
func serveGorilla(mln net.Listener) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	var conns atomic.Int64
	up := websocket.Upgrader{}
	ws := http.NewServeMux()
	ws.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns.Add(1)
		defer conns.Add(-1)
		defer c.Close()
		for {
			op, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(op, p) != nil {
				return
			}
		}
	})
	go func() { log.Fatal(http.Serve(ln, ws)) }()
	http.HandleFunc("/mem", func(w http.ResponseWriter, _ *http.Request) {
		writeMem(w, nil, Mem{Conns: int(conns.Load())})
	})
	fmt.Printf("ready %s %s\n", ln.Addr(), mln.Addr())
	log.Fatal(http.Serve(mln, nil))
}
