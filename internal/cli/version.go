package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// versionMain is "weir version": what was built, from the build information the Go
// toolchain embeds. A binary installed with `go install ...@v1.2.3` has that
// module version; one built in a checkout has a pseudo-version or "(devel)",
// and the VCS revision says which commit.
//
// It returns the exit status: like the other commands, -h prints the usage
// and exits 0, and a flag or an argument is a usage error (2).
func versionMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: weir version\n\nPrints the module version and the VCS revision built.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, errorLine(fmt.Errorf("version: unexpected argument %q", fs.Arg(0))))
		fs.Usage()
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionString(info))
	return 0
}

// versionString renders info as one line:
//
//	weir v1.2.3 go1.26.0
//	weir (devel) 862d545a1b2c dirty 2026-12-06T06:04:38Z go1.26.0
//
// info nil (a binary without build information) gives "weir (devel)".
func versionString(info *debug.BuildInfo) string {
	if info == nil {
		return "weir (devel)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{"weir", v}
	var rev, at string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	// A pseudo-version already names the commit; a tag or "(devel)" does not.
	if rev != "" && !strings.Contains(v, rev[:min(len(rev), 12)]) {
		parts = append(parts, rev[:min(len(rev), 12)])
		if dirty {
			parts = append(parts, "dirty")
		}
		if at != "" {
			parts = append(parts, at)
		}
	}
	if info.GoVersion != "" {
		parts = append(parts, info.GoVersion)
	}
	return strings.Join(parts, " ")
}
