// Command weir is weir's command-line tool. Until the engine lands, `weir serve`
// only says that the demo server is not there yet.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: weir serve [-addr host:port]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		fmt.Println("weir serve: the demo server is not there yet (it comes with the engine).")
	default:
		fmt.Fprintf(os.Stderr, "weir: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}
