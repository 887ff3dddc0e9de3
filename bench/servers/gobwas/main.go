// Command gobwas is the benchmark server for github.com/gobwas/ws: ws.Upgrade on a raw
// net.Conn, then one goroutine per connection reading with wsutil.ReadClientData and
// echoing with wsutil.WriteServerMessage. No permessage-deflate (wsflate is not wired
// in here).
package main

import (
	"net"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

type conn struct {
	mu sync.Mutex
	nc net.Conn
}

func main() {
	o := srvkit.Parse()
	var reg srvkit.Registry[*conn]
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		srvkit.Fatal(err)
	}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if _, err := ws.Upgrade(nc); err != nil {
					return
				}
				c := &conn{nc: nc}
				reg.Add(c)
				defer reg.Remove(c)
				for {
					p, op, err := wsutil.ReadClientData(nc)
					if err != nil {
						return
					}
					c.mu.Lock()
					err = wsutil.WriteServerMessage(nc, op, p)
					c.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	srvkit.Serve(o, ln.Addr().String(), func(p []byte) int {
		fr, err := ws.CompileFrame(ws.NewBinaryFrame(p))
		if err != nil {
			return 0
		}
		n := 0
		for _, c := range reg.Snapshot() {
			c.mu.Lock()
			if _, err := c.nc.Write(fr); err == nil {
				n++
			}
			c.mu.Unlock()
		}
		return n
	}, reg.Len)
}
