package main

import (
	"strings"
	"testing"
)

// TestUsageNamesEveryCommand: the usage line lists every command wsbench
// runs (bench/README.md describes them all).
func TestUsageNamesEveryCommand(t *testing.T) {
	for _, c := range []string{"run", "report", "gen", "ratio", "chop", "pubsub", "psgen", "psreport", "tlsstorm", "tlsreport"} {
		if _, ok := commands[c]; !ok {
			t.Errorf("%s is not a command", c)
		}
		if !strings.Contains(usage(), c) {
			t.Errorf("usage does not name %s: %q", c, usage())
		}
	}
}
