package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/weir-ws/weir/pubsub"
)

// Hooks let a binary built on this package add to `weir serve` what the main
// module cannot hold: natsbridge/cmd/weir adds -nats and a NATS bridge. The
// zero value adds nothing.
type Hooks struct {
	// ServeFlags, if set, registers extra flags on serve's flag set before
	// it parses the command line.
	ServeFlags func(fs *flag.FlagSet)
	// ServeBridge, if set, is called once serve's flags are parsed. A
	// non-nil Bridge makes the chat's Hub a node of a cluster (pubsub's
	// Config.Bridge); about says what it joined, for serve's second line.
	// nil, "", nil: one node on its own.
	ServeBridge func() (b pubsub.Bridge, about string, err error)
}

// Main runs the weir command line (args without the program's name) and
// returns the process's exit status: 0, 1 when the command failed, 2 for a
// usage error.
func Main(args []string, h Hooks) int {
	if len(args) < 1 {
		usage()
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], h)
	case "cat":
		err = cat(args[1:])
	case "bench":
		err = bench(args[1:])
	case "version", "-version", "--version":
		return versionMain(args[1:], os.Stdout, os.Stderr)
	case "-h", "-help", "--help", "help":
		usage()
		return 0
	default:
		fmt.Fprintf(os.Stderr, "weir: unknown command %q\n", args[0])
		usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, errorLine(err))
		return 1
	}
	return 0
}

// errorLine is how a failed command reports err: with the "weir: " prefix,
// once. The engine's own errors already start with it ("weir: dial ...").
func errorLine(err error) string {
	// An error may carry a server's bytes (a refusal's body): stderr is
	// often a terminal, which would obey their control characters.
	msg := termSafe(err.Error(), false)
	if strings.HasPrefix(msg, "weir: ") {
		return msg
	}
	return "weir: " + msg
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: weir <command> [flags]

commands:
  serve   run the demo server: echo, a chat page at /, /stats (weir serve -h)
  cat     connect to a WebSocket URL, send stdin lines, print messages (weir cat -h)
  bench   generate load against a WebSocket echo server (weir bench -h)
  version print the module version and VCS revision
`)
}
