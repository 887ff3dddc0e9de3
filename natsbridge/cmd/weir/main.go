// Command weir is weir's command-line tool (github.com/weir-ws/weir/cmd/weir)
// with one addition: `weir serve -nats URL` makes the demo server a node of a
// cluster, its chat rooms shared with every node on the same NATS servers
// through a natsbridge.Bridge. It lives in the NATS bridge's module so that
// the main module does not depend on nats.go.
//
//	go run ./cmd/weir serve -addr 127.0.0.1:8081 -nats nats://127.0.0.1:4222
//	make run-cluster      (from the repository's root: NATS and two nodes)
package main

import (
	"flag"
	"os"

	"github.com/weir-ws/weir/internal/cli"
	"github.com/weir-ws/weir/natsbridge"
	"github.com/weir-ws/weir/pubsub"
)

func main() { os.Exit(cli.Main(os.Args[1:], hooks())) }

// hooks adds -nats to serve and, when it is given, a bridge to those servers.
func hooks() cli.Hooks {
	var url string
	return cli.Hooks{
		ServeFlags: func(fs *flag.FlagSet) {
			fs.StringVar(&url, "nats", "", "join a cluster: NATS server URL, or several separated by commas\n(nats://127.0.0.1:4222); every node on them shares the chat's rooms")
		},
		ServeBridge: func() (pubsub.Bridge, string, error) {
			if url == "" {
				return nil, "", nil
			}
			return natsbridge.New(natsbridge.Config{URL: url, Name: "weir serve"}), "NATS at " + url, nil
		},
	}
}
