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
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wsbench run|report|gen [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		runRun(os.Args[2:])
	case "gen":
		runGen(os.Args[2:])
	case "report":
		runReport(os.Args[2:])
	case "ratio":
		runRatio(os.Args[2:])
	case "chop":
		runChop(os.Args[2:])
	case "pubsub":
		runPubsub(os.Args[2:])
	case "psgen":
		runPsGen(os.Args[2:])
	case "tlsreport":
		runTLSReport(os.Args[2:])
	case "tlsstorm":
		runTLSStorm(os.Args[2:])
	case "psreport":
		runPsReport(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "wsbench:", err)
	os.Exit(1)
}
