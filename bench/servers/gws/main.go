// Command gws is the benchmark server for github.com/lxzan/gws: gws.Server (its own
// HTTP upgrade on the listener, one ReadLoop goroutine per connection), echo in
// OnMessage, broadcast with gws.Broadcaster.
package main

import (
	"crypto/tls"
	"net"

	"github.com/lxzan/gws"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

type handler struct {
	gws.BuiltinEventHandler
	reg *srvkit.Registry[*gws.Conn]
}

func (h *handler) OnOpen(c *gws.Conn)             { h.reg.Add(c) }
func (h *handler) OnClose(c *gws.Conn, err error) { h.reg.Remove(c) }
func (h *handler) OnMessage(c *gws.Conn, m *gws.Message) {
	c.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

func main() {
	o := srvkit.Parse()
	reg := &srvkit.Registry[*gws.Conn]{}
	opt := &gws.ServerOption{}
	opt.PermessageDeflate.Enabled = o.Deflate
	srv := gws.NewServer(&handler{reg: reg}, opt)
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		srvkit.Fatal(err)
	}
	wsLn := ln
	if o.TLS() {
		wsLn = tls.NewListener(ln, o.TLSConfig()) // wss: crypto/tls under gws (what RunTLS does)
	}
	go srv.RunListener(wsLn)
	srvkit.Serve(o, ln.Addr().String(), func(p []byte) int {
		b := gws.NewBroadcaster(gws.OpcodeBinary, p)
		defer b.Close()
		n := 0
		for _, c := range reg.Snapshot() {
			if b.Broadcast(c) == nil {
				n++
			}
		}
		return n
	}, reg.Len)
}
