package main

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// A pub/sub generator process, and the commit a server binary was built from.

type psGenProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func (r *runner) startPsGen(args []string) (*psGenProc, error) {
	cmd := exec.Command(r.self, append([]string{"psgen"}, args...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	trackChild(cmd)
	g := &psGenProc{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			g.lines <- sc.Text()
		}
		close(g.lines)
	}()
	return g, nil
}

func (g *psGenProc) send(s string) { fmt.Fprintln(g.in, s) }

func (g *psGenProc) next(timeout time.Duration) (string, error) {
	select {
	case l, ok := <-g.lines:
		if !ok {
			return "", fmt.Errorf("psgen ended")
		}
		return l, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("psgen: no answer in %v", timeout)
	}
}

func (g *psGenProc) stop() {
	g.in.Close()
	g.cmd.Process.Kill()
	g.cmd.Wait()
	untrackChild(g.cmd)
}

// binCommit is the commit the server binary at bin was built from, read from
// its build info (vcs.revision, "-dirty" when the tree had changes), so a
// result names what ran even when the checkout has moved on since the build.
// A binary built without VCS stamping (GOFLAGS=-buildvcs=false) falls back to
// the checkout's HEAD, marked as such.
func binCommit(bin, dir string) string {
	if info, err := buildinfo.ReadFile(bin); err == nil {
		var rev, dirty string
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && len(s.Value) >= 7:
				rev = s.Value[:7]
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "-dirty"
			}
		}
		if rev != "" {
			return rev + dirty
		}
	}
	return gitCommit(dir) + " (checkout HEAD; binary not stamped, build with -buildvcs=auto)"
}

func gitCommit(dir string) string {
	b, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
