package main

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"

	"github.com/weir-ws/weir/internal/loadgen"
)

// children tracks the server and generator processes a run started, so that
// interrupting the run (Ctrl-C, SIGTERM) ends them too instead of leaving them to
// hold ports and sockets.
var children struct {
	mu     sync.Mutex
	cmds   map[*exec.Cmd]struct{}
	fleets map[*loadgen.Fleet]struct{}
}

func trackChild(c *exec.Cmd) {
	children.mu.Lock()
	if children.cmds == nil {
		children.cmds = map[*exec.Cmd]struct{}{}
	}
	children.cmds[c] = struct{}{}
	children.mu.Unlock()
}

func untrackChild(c *exec.Cmd) {
	children.mu.Lock()
	delete(children.cmds, c)
	children.mu.Unlock()
}

func trackFleet(f *loadgen.Fleet) {
	children.mu.Lock()
	if children.fleets == nil {
		children.fleets = map[*loadgen.Fleet]struct{}{}
	}
	children.fleets[f] = struct{}{}
	children.mu.Unlock()
}

func untrackFleet(f *loadgen.Fleet) {
	children.mu.Lock()
	delete(children.fleets, f)
	children.mu.Unlock()
}

// killChildrenOnSignal ends every tracked child and exits on SIGINT or SIGTERM.
func killChildrenOnSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		children.mu.Lock()
		for c := range children.cmds {
			c.Process.Kill()
		}
		for f := range children.fleets {
			f.Kill()
		}
		children.mu.Unlock()
		os.Exit(130)
	}()
}
