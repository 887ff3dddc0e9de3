// Command coder is the benchmark server for github.com/coder/websocket: net/http
// handler, websocket.Accept, one goroutine per connection reading with Read and
// echoing with Write (the library's documented pattern).
package main

import (
	"context"
	"net"
	"net/http"

	"github.com/coder/websocket"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

func main() {
	o := srvkit.Parse()
	var reg srvkit.Registry[*websocket.Conn]
	mode := websocket.CompressionDisabled
	if o.Deflate {
		mode = websocket.CompressionContextTakeover
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			InsecureSkipVerify: true,
			CompressionMode:    mode,
		})
		if err != nil {
			return
		}
		c.SetReadLimit(-1)
		reg.Add(c)
		defer func() { reg.Remove(c); c.CloseNow() }()
		ctx := context.Background()
		for {
			mt, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, mt, p); err != nil {
				return
			}
		}
	})
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		srvkit.Fatal(err)
	}
	go http.Serve(ln, h)
	srvkit.Serve(o, ln.Addr().String(), func(p []byte) int {
		n := 0
		ctx := context.Background()
		for _, c := range reg.Snapshot() {
			if c.Write(ctx, websocket.MessageBinary, p) == nil {
				n++
			}
		}
		return n
	}, reg.Len)
}
