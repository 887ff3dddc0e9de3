// Command weir is weir's command-line tool.
//
//	weir serve [flags]       the demo server: echo, a chat page at /, /stats (make run)
//	weir cat [flags] URL     an interactive client in the manner of wscat
//	weir bench [flags] URL   the load generator (echo, idle and storm)
package main

import (
	"fmt"
	"os"
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
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "weir: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "weir:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: weir <command> [flags]

commands:
  serve   run the demo server: echo, a chat page at /, /stats (weir serve -h)
  cat     connect to a WebSocket URL, send stdin lines, print messages (weir cat -h)
  bench   generate load against a WebSocket echo server (weir bench -h)
`)
}
