// Command wsbench is weir's cross-library WebSocket benchmark harness.
//
//	wsbench run [-quick] [-servers a,b] [-scenarios echo,idle,...] [-out file]
//	wsbench report -in results.json -md ../docs/benchmarks.md -charts results
//	wsbench gen ...   (a load-generator process; started by run)
//	wsbench ratio [-servers a,b] [-rounds 5] [-noise "flags of bin/noise"] [-perf]
//	wsbench chop [-servers a,b] [-chops 64,2048] [-gap 0]
//	wsbench pubsub [-shape fanout|chat|nats] [-servers a,b] [-sizes 128,4096] [-rates ...]
//	wsbench psreport -in a.json,b.json -md out.md -charts dir
//	wsbench tlsstorm [-servers a,b] [-rounds 3] [-dur 3s] [-conc 32]   (wss handshakes, full and resumed)
//	wsbench tlsreport [results/tls]   (the wss tables of a results/tls/run.sh run)
//
// run is started from the bench folder (it runs bin/* and servers/nodews).
package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// commands are wsbench's commands, each with its arguments after the name.
var commands = map[string]func([]string){
	"run":       runRun,
	"gen":       runGen,
	"report":    runReport,
	"ratio":     runRatio,
	"chop":      runChop,
	"pubsub":    runPubsub,
	"psgen":     runPsGen,
	"tlsreport": runTLSReport,
	"tlsstorm":  runTLSStorm,
	"psreport":  runPsReport,
}

// usage names every command, sorted; `wsbench CMD -h` lists a command's flags.
func usage() string {
	names := slices.Sorted(maps.Keys(commands))
	return "usage: wsbench " + strings.Join(names, "|") + " [flags]   (wsbench CMD -h: its flags; bench/README.md)"
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage())
		os.Exit(2)
	}
	switch os.Args[1] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(os.Stderr, usage())
		return
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		fmt.Fprintln(os.Stderr, usage())
		os.Exit(2)
	}
	run(os.Args[2:])
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "wsbench:", err)
	os.Exit(1)
}
