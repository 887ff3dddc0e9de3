// Command weir is weir's command-line tool.
//
//	weir serve [flags]       the demo server: echo, a chat page at /, /stats (make run)
//	weir cat [flags] URL     an interactive client in the manner of wscat
//	weir bench [flags] URL   the load generator (echo, rate, fan-out, idle and storm)
//	weir version             the module version and VCS revision built
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "cat":
		err = cat(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	case "version", "-version", "--version":
		err = version(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "weir: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, errorLine(err))
		os.Exit(1)
	}
}

// errorLine is how a failed command reports err: with the "weir: " prefix,
// once. The engine's own errors already start with it ("weir: dial ...").
func errorLine(err error) string {
	msg := err.Error()
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
