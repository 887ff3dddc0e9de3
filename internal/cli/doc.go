// Package cli is the weir command line: serve (the demo server and its chat),
// cat, bench and version. Its binaries are thin: cmd/weir calls Main with no
// Hooks, natsbridge/cmd/weir (in the NATS bridge's own module, so that the
// main module does not depend on nats.go) with Hooks that add `serve -nats`.
//
//	weir serve [flags]       the demo server: echo, a chat page at /, /stats (make run)
//	weir cat [flags] URL     an interactive client in the manner of wscat
//	weir bench [flags] URL   the load generator (echo, rate, fan-out, idle and storm)
//	weir version             the module version and VCS revision built
//
// Contract: Main returns the exit status for the binary to pass on: 0, 1
// when the command failed, 2 for a usage error (a bad flag or argument, as
// package flag does); -h prints the command's usage and exits 0. serve's
// chat keeps its rooms on a pubsub.Hub (serve_chat.go states the protocol);
// with a bridge from Hooks the rooms span every node of the cluster.
package cli
