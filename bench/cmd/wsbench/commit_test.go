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
// unstamped binary says it fell back to the checkout's HEAD. The stamped
// binary is a tiny program built in a repository of the test's own: the go
// command stamps nothing in a git worktree (.git there is a file), so building
// this checkout would test where it runs rather than binCommit.
func TestBinCommit(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	for name, body := range map[string]string{
		"go.mod":  "module stamped\n\ngo 1.21\n",
		"main.go": "package main\n\nfunc main() {}\n",
	} {
		if err := os.WriteFile(filepath.Join(repo, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "stamped")
	head := git("rev-parse", "HEAD")

	bin := filepath.Join(t.TempDir(), "stamped")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Dir = repo
	build.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if got := binCommit(bin, "."); got != head[:7] {
		t.Errorf("stamped binary: binCommit = %q, want %s", got, head[:7])
	}

	// The test binary itself carries no VCS stamp.
	self, _ := os.Executable()
	if got := binCommit(self, "."); !strings.Contains(got, "checkout HEAD") {
		t.Errorf("unstamped binary: binCommit = %q, want the marked fallback", got)
	}
}
