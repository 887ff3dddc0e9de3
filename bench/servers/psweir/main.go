// Command psweir is the pub/sub benchmark server for weir: an engine server with a
// pubsub.Hub. A connection's first message is the topic it subscribes to; publishes
// come in on srvkit's TCP ingress and go to Hub.Publish. With -nats-url the Hub has
// a natsbridge.Bridge (node of a cluster); -nats-listen also runs a NATS server in
// this process (the benchmark's node A).
package main

import (
	"flag"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/weir-ws/weir/bench/internal/srvkit"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/natsbridge"
	"github.com/weir-ws/weir/pubsub"
)

var (
	natsListen = flag.String("nats-listen", "", "run a NATS server in this process on host:port")
	natsURL    = flag.String("nats-url", "", "bridge the Hub over NATS at this URL")
	parallel   = flag.Int("parallel", 0, "pubsub.Config.ParallelFanout (0: its default)")
)

// subscriber subscribes a connection to the topic its first message names.
type subscriber struct {
	engine.NopHandler
	hub *pubsub.Hub
}

func (s *subscriber) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	if s.hub.NumTopics(c) == 0 {
		s.hub.Subscribe(c, string(p))
	}
}

func main() {
	o := srvkit.Parse()
	if *natsListen != "" {
		host, port, err := net.SplitHostPort(*natsListen)
		if err != nil {
			srvkit.Fatal(err)
		}
		pn, _ := strconv.Atoi(port)
		ns, err := server.NewServer(&server.Options{Host: host, Port: pn, NoLog: true, NoSigs: true})
		if err != nil {
			srvkit.Fatal(err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			srvkit.Fatal(errString("nats server not ready"))
		}
	}
	cfg := &pubsub.Config{ParallelFanout: *parallel}
	if *natsURL != "" {
		cfg.Bridge = natsbridge.New(natsbridge.Config{URL: *natsURL})
	}
	hub, err := pubsub.New(cfg)
	if err != nil {
		srvkit.Fatal(err)
	}
	srv, err := engine.NewServer(&subscriber{hub: hub}, &engine.Config{}, nil)
	if err != nil {
		srvkit.Fatal(err)
	}
	if err := srv.Listen(o.Addr); err != nil {
		srvkit.Fatal(err)
	}
	srvkit.StartIngress(o, func(topic string, p []byte) {
		hub.Publish(topic, frame.OpBinary, p)
	})
	srvkit.Serve(o, srv.Addr().String(), func(p []byte) int {
		n, _ := hub.Publish("bench", frame.OpBinary, p)
		return n
	}, func() int { return hub.Stats().Conns })
}

type errString string

func (e errString) Error() string { return string(e) }
