// Command pscentrifuge is the pub/sub benchmark server for
// github.com/centrifugal/centrifuge, a push-gateway library: its WebSocket handler
// (JSON protocol), every connection accepted and every subscription allowed, the
// in-memory broker. Publishes come in on srvkit's TCP ingress and go to
// Node.Publish; the payload must be JSON (the benchmark's is a JSON string).
package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/centrifugal/centrifuge"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

func main() {
	o := srvkit.Parse()
	node, err := centrifuge.New(centrifuge.Config{LogLevel: centrifuge.LogLevelError})
	if err != nil {
		srvkit.Fatal(err)
	}
	var subs atomic.Int64
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: "bench"}}, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			subs.Add(1)
			cb(centrifuge.SubscribeReply{}, nil)
		})
		c.OnUnsubscribe(func(centrifuge.UnsubscribeEvent) { subs.Add(-1) })
	})
	if err := node.Run(); err != nil {
		srvkit.Fatal(err)
	}
	ws := centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
		CheckOrigin: func(*http.Request) bool { return true },
	})
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		srvkit.Fatal(err)
	}
	go http.Serve(ln, ws)
	publish := func(topic string, p []byte) int {
		node.Publish(topic, append([]byte(nil), p...))
		return 0
	}
	srvkit.StartIngress(o, func(topic string, p []byte) { publish(topic, p) })
	srvkit.Serve(o, ln.Addr().String(), func(p []byte) int { return publish("bench", p) },
		func() int { return int(subs.Load()) })
}
