package interop

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

var (
	updateDoc = flag.Bool("update-doc", false, "rewrite ../docs/conformance.md from this run's results (make docs; every peer must run)")
	checkDocF = flag.Bool("check-doc", false, "fail unless ../docs/conformance.md matches this run's results (make test); cells of skipped peers are not compared")
)

// TestMain runs the tests, names each peer that was skipped and what to
// install for it, then either writes docs/conformance.md from what the tests
// recorded (-update-doc) or checks the committed one against it (-check-doc).
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sk := skippedPeers(); len(sk) > 0 && !inCI {
		reportSkipped(sk)
	}
	switch {
	case *updateDoc:
		if err := writeDoc(docPath); err != nil {
			fmt.Fprintln(os.Stderr, "conformance doc:", err)
			code = 1
		} else {
			fmt.Fprintln(os.Stderr, "conformance doc: wrote", docPath)
		}
	case *checkDocF && code != 0:
		fmt.Fprintln(os.Stderr, "conformance doc: not checked: the suite failed")
	case *checkDocF:
		if err := checkDoc(docPath); err != nil {
			fmt.Fprintln(os.Stderr, "conformance doc:", err)
			code = 1
		} else if len(skippedPeers()) > 0 {
			fmt.Fprintln(os.Stderr, "conformance doc: matches this run, except the skipped peers' cells (not compared)")
		} else {
			fmt.Fprintln(os.Stderr, "conformance doc: matches this run")
		}
	}
	os.Exit(code)
}
