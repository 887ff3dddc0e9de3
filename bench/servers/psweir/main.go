// Command psweir is the pub/sub benchmark server for weir: an engine server with a
// pubsub.Hub. A connection's first message is the topic it subscribes to; publishes
// come in on srvkit's TCP ingress and go to Hub.Publish. With -nats-url the Hub has
// a natsbridge.Bridge (node of a cluster); -nats-listen also runs a NATS server in
// this process (the benchmark's node A before it ran servers/natsd). -trace FILE
// times each publish along the cross-node path (trace.go).
package main

import (
	"flag"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
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
	traceFile  = flag.String("trace", "", "record per-publish timestamps of the NATS path to this file (trace.go)")
)

// bridgeTrace, set in a weirtrace build (trace_hook.go), hooks natsbridge's
// own trace points to the tracer.
var bridgeTrace func(*tracer)

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
	var tr *tracer
	if *traceFile != "" {
		t, err := newTracer(*traceFile)
		if err != nil {
			srvkit.Fatal(err)
		}
		tr = t
	}
	cfg := &pubsub.Config{ParallelFanout: *parallel}
	if *natsURL != "" {
		nc := natsbridge.Config{URL: *natsURL}
		if tr != nil {
			nc.Options = []nats.Option{nats.SetCustomDialer(traceDialer{tr})}
			if bridgeTrace != nil {
				bridgeTrace(tr)
			}
		}
		cfg.Bridge = natsbridge.New(nc)
		if tr != nil {
			cfg.Bridge = traceBridge{cfg.Bridge, tr}
		}
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
		if tr != nil {
			tr.ev("in", p)
			defer tr.ev("out", p)
		}
		hub.Publish(topic, frame.OpBinary, p)
	})
	srvkit.Serve(o, srv.Addr().String(), func(p []byte) int {
		n, _ := hub.Publish("bench", frame.OpBinary, p)
		return n
	}, func() int { return hub.Stats().Conns })
}

type errString string

func (e errString) Error() string { return string(e) }
