package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinCommit: a result names the commit its server binary was built from
// (its VCS stamp), not whatever the checkout is at when the run starts; an
// unstamped binary says it fell back to the checkout's HEAD.
func TestBinCommit(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "stamped")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	got := binCommit(bin, ".")
	if !strings.HasPrefix(got, string(head[:7])) || strings.Contains(got, "checkout") {
		t.Errorf("stamped binary: binCommit = %q, want %s[-dirty]", got, head[:7])
	}

	// The test binary itself carries no VCS stamp.
	self, _ := os.Executable()
	if got := binCommit(self, "."); !strings.Contains(got, "checkout HEAD") {
		t.Errorf("unstamped binary: binCommit = %q, want the marked fallback", got)
	}
}
