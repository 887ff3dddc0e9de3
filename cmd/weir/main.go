// Command weir is weir's command-line tool (package internal/cli):
//
//	weir serve [flags]       the demo server: echo, a chat page at /, /stats (make run)
//	weir cat [flags] URL     an interactive client in the manner of wscat
//	weir bench [flags] URL   the load generator (echo, rate, fan-out, idle and storm)
//	weir version             the module version and VCS revision built
//
// This build is one node on its own: for `weir serve -nats URL` (a cluster of
// weir nodes over NATS) build github.com/weir-ws/weir/natsbridge/cmd/weir,
// which keeps nats.go out of this module.
package main

import (
	"os"

	"github.com/weir-ws/weir/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], cli.Hooks{})) }
