// Command gorilla is the benchmark server for github.com/gorilla/websocket: one
// goroutine per connection reading with ReadMessage and echoing with WriteMessage
// (the library's documented pattern), broadcast with a PreparedMessage.
package main

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

// conn serialises writes: gorilla allows one concurrent writer.
type conn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func main() {
	o := srvkit.Parse()
	var reg srvkit.Registry[*conn]
	up := websocket.Upgrader{
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: o.Deflate,
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &conn{ws: ws}
		reg.Add(c)
		defer func() { reg.Remove(c); ws.Close() }()
		for {
			mt, p, err := ws.ReadMessage()
			if err != nil {
				return
			}
			c.mu.Lock()
			err = ws.WriteMessage(mt, p)
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	})
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		srvkit.Fatal(err)
	}
	if o.TLS() {
		ln = tls.NewListener(ln, o.TLSConfig()) // wss: crypto/tls under gorilla
	}
	go http.Serve(ln, h)
	srvkit.Serve(o, ln.Addr().String(), func(p []byte) int {
		pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, p)
		if err != nil {
			return 0
		}
		n := 0
		for _, c := range reg.Snapshot() {
			c.mu.Lock()
			if c.ws.WritePreparedMessage(pm) == nil {
				n++
			}
			c.mu.Unlock()
		}
		return n
	}, reg.Len)
}
