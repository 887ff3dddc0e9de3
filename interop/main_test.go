package interop

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

var updateDoc = flag.Bool("update-doc", false, "rewrite ../docs/conformance.md from this run's results")

// TestMain runs the tests, then, with -update-doc, writes docs/conformance.md from
// what they recorded (refusing when the run was partial).
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if *updateDoc {
		if err := writeDoc(docPath); err != nil {
			fmt.Fprintln(os.Stderr, "conformance doc:", err)
			code = 1
		} else {
			fmt.Fprintln(os.Stderr, "conformance doc: wrote", docPath)
		}
	}
	os.Exit(code)
}
