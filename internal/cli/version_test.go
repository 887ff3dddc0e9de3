package cli

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/weir-ws/weir/engine"
)

func TestVersionString(t *testing.T) {
	t.Parallel()
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "862d545a1b2c3d4e5f60718293a4b5c6d7e8f901"},
		{Key: "vcs.time", Value: "2026-12-06T06:04:38Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "weir (devel)"},
		{"tagged", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, "weir v1.2.3 go1.26.0"},
		{"devel in a checkout", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"weir (devel) 862d545a1b2c dirty 2026-12-06T06:04:38Z go1.26.0"},
		{"empty version", &debug.BuildInfo{Main: debug.Module{}}, "weir (devel)"},
		{"pseudo-version names the commit", &debug.BuildInfo{GoVersion: "go1.26.0",
			Main: debug.Module{Version: "v0.0.0-20261206060438-862d545a1b2c+dirty"}, Settings: vcs},
			"weir v0.0.0-20261206060438-862d545a1b2c+dirty go1.26.0"},
	}
	for _, tt := range tests {
		if got := versionString(tt.info); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestErrorLine: the engine's errors already start with "weir: "; the command's
// own get the prefix once.
func TestErrorLine(t *testing.T) {
	t.Parallel()
	dialErr := fmt.Errorf("weir: dial ws://10.255.255.1/: %w", errors.New("i/o timeout"))
	tests := []struct {
		err  error
		want string
	}{
		{dialErr, "weir: dial ws://10.255.255.1/: i/o timeout"},
		{engine.ErrClosed, "weir: connection closed"},
		{errors.New("serve: unexpected argument \"x\""), "weir: serve: unexpected argument \"x\""},
	}
	for _, tt := range tests {
		if got := errorLine(tt.err); got != tt.want {
			t.Errorf("errorLine(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestVersionArgs: `weir version -h` is help like every other command's -h
// (usage on stderr, exit 0), and an argument is a usage error (exit 2, as
// Main's contract says), not a failed command (1).
func TestVersionArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		want       int
		wantOut    string // in stdout
		wantErrOut string // in stderr
	}{
		{nil, 0, "weir ", ""},
		{[]string{"-h"}, 0, "", "usage: weir version"},
		{[]string{"--help"}, 0, "", "usage: weir version"},
		{[]string{"x"}, 2, "", "usage: weir version"},
		{[]string{"-bogus"}, 2, "", "usage: weir version"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		got := versionMain(tt.args, &stdout, &stderr)
		if got != tt.want {
			t.Errorf("weir version %q: exit %d, want %d", tt.args, got, tt.want)
		}
		if !strings.Contains(stdout.String(), tt.wantOut) || !strings.Contains(stderr.String(), tt.wantErrOut) {
			t.Errorf("weir version %q: stdout %q, stderr %q; want %q in stdout, %q in stderr",
				tt.args, stdout.String(), stderr.String(), tt.wantOut, tt.wantErrOut)
		}
		if tt.want != 0 && stdout.Len() != 0 {
			t.Errorf("weir version %q: printed a version on a usage error: %q", tt.args, stdout.String())
		}
	}
}
