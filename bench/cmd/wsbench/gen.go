package main

import (
	"context"
	"os"

	"github.com/weir-ws/weir/internal/loadgen"
)

// runGen is "wsbench gen": one load-generator process, started and driven by run
// over stdin and stdout (the protocol is loadgen's).
func runGen(args []string) {
	o, err := loadgen.ParseArgs(args)
	if err != nil {
		fatal(err)
	}
	if err := loadgen.Serve(context.Background(), o, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fatal(err)
	}
}
