// Command natsd is a NATS server in a process of its own for the pub/sub
// benchmark's nats shape (wsbench pubsub -shape nats), as a deployment has
// it: the weir nodes then share no Go scheduler with the server that carries
// their messages. It embeds github.com/nats-io/nats-server/v2 with its
// defaults (no logging, no signal handling: the benchmark stops it) and
// speaks srvkit's LISTEN line and /stats so that wsbench runs it like the
// other servers; ws= in the LISTEN line is the NATS client address.
package main

import (
	"errors"
	"flag"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

var (
	listen    = flag.String("listen", "127.0.0.1:4222", "NATS client address host:port")
	traceFile = flag.String("trace", "", "debugging: record when the server routes each weir.> message (see observe)")
)

func main() {
	o := srvkit.Parse()
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		srvkit.Fatal(err)
	}
	pn, err := strconv.Atoi(port)
	if err != nil {
		srvkit.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: host, Port: pn, NoLog: true, NoSigs: true})
	if err != nil {
		srvkit.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		srvkit.Fatal(errors.New("nats server not ready"))
	}
	if *traceFile != "" {
		if err := observe(ns, *traceFile); err != nil {
			srvkit.Fatal(err)
		}
	}
	srvkit.Serve(o, ns.Addr().String(), func([]byte) int { return 0 }, func() int { return 0 })
}
