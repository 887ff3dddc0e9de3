// Command nbio is the benchmark server for github.com/lesismal/nbio (v1.6.7): the
// nbhttp engine in its default non-blocking mode (pollers, no goroutine per
// connection), echo in OnMessage, broadcast by WriteMessage to each connection.
// -tls-cert/-tls-key serve wss with nbio's TLS (llib/std/crypto/tls).
package main

import (
	"github.com/lesismal/llib/std/crypto/tls"
	"net/http"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

func main() {
	o := srvkit.Parse()
	reg := &srvkit.Registry[*websocket.Conn]{}
	up := websocket.NewUpgrader()
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.EnableCompression(o.Deflate)
	up.OnOpen(reg.Add)
	up.OnClose(func(c *websocket.Conn, _ error) { reg.Remove(c) })
	up.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, p []byte) {
		c.WriteMessage(mt, p)
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.Upgrade(w, r, nil)
	})
	conf := nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{o.Addr},
		Handler:                 h,
		ReleaseWebsocketPayload: true,
	}
	if o.TLS() {
		// wss: nbio's own TLS (its fork of crypto/tls in llib, records
		// processed on its pollers), as in nbio's examples/websocket_tls.
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			srvkit.Fatal(err)
		}
		conf.Addrs, conf.AddrsTLS = nil, []string{o.Addr}
		conf.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	eng := nbhttp.NewEngine(conf)
	if err := eng.Start(); err != nil {
		srvkit.Fatal(err)
	}
	srvkit.Serve(o, o.Addr, func(p []byte) int {
		n := 0
		for _, c := range reg.Snapshot() {
			if c.WriteMessage(websocket.BinaryMessage, p) == nil {
				n++
			}
		}
		return n
	}, reg.Len)
}
