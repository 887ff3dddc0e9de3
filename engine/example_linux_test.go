package engine_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// Linux only: 127.0.0.2 and up are local addresses without configuration, and
// ReusePort gives each loop its own listener.

// A load generator past one source address's ports (docs/tuning.md, Load
// generators): on loopback all of 127.0.0.0/8 is local, so connection i dials
// from 127.0.0.(2 + i/60000). weir's dialer sets IP_BIND_ADDRESS_NO_PORT, so
// the kernel picks the port per destination at connect time.
func ExampleDialOptions_localAddr() {
	srv, _ := engine.NewServer(echo{}, nil, nil)
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/"
	client, err := engine.NewClient(nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	n := 3
	var conns []*engine.Conn

	for i := 0; i < n; i++ {
		src := netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i/60000)})
		c, _, err := client.Dial(ctx, url, &engine.DialOptions{
			LocalAddr: &net.TCPAddr{IP: src.AsSlice()},
		})
		if err != nil {
			log.Fatal(err)
		}
		conns = append(conns, c)
	}

	for _, c := range conns {
		fmt.Println(c.LocalAddr().Addr())
		c.Close(frame.StatusNormalClosure, "")
	}
	// Output:
	// 127.0.0.2
	// 127.0.0.2
	// 127.0.0.2
}

// The production settings of docs/tuning.md in one place (All sysctls in one
// file): a deep accept queue, a listener per loop, a small write buffer that
// closes slow consumers, and a slower keepalive.
func ExampleNewServer_production() {
	h := echo{}
	srv, err := engine.NewServer(h, &engine.Config{
		Backlog:           65535,
		ReusePort:         true,
		MaxWriteBuffer:    64 << 10,
		WriteBufferPolicy: engine.WriteBufferClose,
		PingInterval:      45 * time.Second,
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	fmt.Println(srv.Listen("127.0.0.1:0"))
	// Output: <nil>
}
