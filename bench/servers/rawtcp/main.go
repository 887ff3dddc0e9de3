// Command rawtcp is the reference baseline: a goroutine-per-connection TCP echo with
// no framing at all (whatever bytes arrive are written back). Broadcast writes the
// bytes unframed to every connection.
package main

import (
	"net"
	"sync"

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
				c := &conn{nc: nc}
				reg.Add(c)
				defer func() { reg.Remove(c); nc.Close() }()
				buf := make([]byte, 32<<10)
				for {
					n, err := nc.Read(buf)
					if err != nil {
						return
					}
					c.mu.Lock()
					_, err = nc.Write(buf[:n])
					c.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	srvkit.Serve(o, ln.Addr().String(), func(p []byte) int {
		n := 0
		for _, c := range reg.Snapshot() {
			c.mu.Lock()
			if _, err := c.nc.Write(p); err == nil {
				n++
			}
			c.mu.Unlock()
		}
		return n
	}, reg.Len)
}
