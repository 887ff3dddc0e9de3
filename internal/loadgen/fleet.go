package loadgen

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// childGrace is how long a child may take to close its connections and exit
// before Close kills it.
const childGrace = 10 * time.Second

// Spawn returns the command (not started) for a child generator with o: a
// program that runs Serve with ParseArgs(o.Args()) on its stdin and stdout, such
// as `weir bench -child` or `wsbench gen`. Its Stderr may be set; Stdin and
// Stdout are the fleet's.
type Spawn func(o Options) *exec.Cmd

// Fleet is one run's generators, driven together with Serve's protocol: in this
// process or as child processes (past one process's open-file limit).
type Fleet struct {
	procs    []*Proc
	cmds     []*exec.Cmd // the children, by index; empty in-process
	stopKill func() bool // unregisters the kill on cancellation
}

// Split divides o.Conns over procs generators: each gets its share, and Base
// numbers them on from o.Base, so that together they spread over the source
// addresses as one generator would. A Rate is shared in proportion to the
// connections (fanout: to the Publishers, which are divided as connections are).
func Split(o Options, procs int) []Options {
	procs = max(procs, 1)
	out := make([]Options, procs)
	base := o.Base
	for i := range out {
		out[i] = o
		out[i].Conns, out[i].Base = share(o.Conns, procs, i), base
		out[i].Publishers = share(o.Publishers, procs, i)
		base += out[i].Conns
		switch {
		case o.Fanout && o.Publishers > 0:
			out[i].Rate = o.Rate * float64(out[i].Publishers) / float64(o.Publishers)
		case !o.Fanout && o.Conns > 0:
			out[i].Rate = o.Rate * float64(out[i].Conns) / float64(o.Conns)
		}
	}
	return out
}

// share is generator i's part of n divided over procs, the remainder going to
// the first ones.
func share(n, procs, i int) int {
	s := n / procs
	if i < n%procs {
		s++
	}
	return s
}

// StartFleet starts one generator per element of opts: children made by spawn,
// or, with spawn nil, generators in this process (dial errors go to log).
// Cancelling ctx ends them: children are killed, in-process ones stop.
func StartFleet(ctx context.Context, opts []Options, spawn Spawn, log io.Writer) (*Fleet, error) {
	f := &Fleet{}
	if spawn == nil {
		for _, o := range opts {
			f.procs = append(f.procs, Local(ctx, o, log))
		}
		return f, nil
	}
	for _, o := range opts {
		cmd := spawn(o)
		in, err := cmd.StdinPipe()
		if err != nil {
			f.Close()
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			f.Close()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			f.Close()
			return nil, fmt.Errorf("loadgen: starting a generator: %w", err)
		}
		f.cmds = append(f.cmds, cmd)
		f.procs = append(f.procs, NewProc(in, out))
	}
	f.stopKill = context.AfterFunc(ctx, f.Kill) // at once if ctx has already ended
	return f, nil
}

// Len is the number of generators.
func (f *Fleet) Len() int { return len(f.procs) }

// Send gives every generator cmd (CmdGo, CmdMark ...).
func (f *Fleet) Send(cmd string) error {
	for i, p := range f.procs {
		if err := p.Send(cmd); err != nil {
			return fmt.Errorf("loadgen: generator %d: %w", i+1, err)
		}
	}
	return nil
}

// Collect waits for the next event named ev from every generator and returns
// them by index. Earlier events (progress) go to seen, called from one goroutine
// per generator at once. The first failure ends the wait; cancel ctx to bound it.
func (f *Fleet) Collect(ctx context.Context, ev string, seen func(i int, e Event)) ([]Event, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]Event, len(f.procs))
	var wg sync.WaitGroup
	for i, p := range f.procs {
		wg.Go(func() {
			var other func(Event)
			if seen != nil {
				other = func(e Event) { seen(i, e) }
			}
			e, err := p.Await(ctx, ev, other)
			if err != nil {
				cancel(fmt.Errorf("loadgen: generator %d: %w", i+1, err))
				return
			}
			out[i] = e
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// Report asks every generator for its counters (CmdReport) and returns them.
func (f *Fleet) Report(ctx context.Context) ([]Event, error) {
	if err := f.Send(CmdReport); err != nil {
		return nil, err
	}
	return f.Collect(ctx, EvResult, nil)
}

// Kill ends every child at once (in-process generators end with their ctx).
func (f *Fleet) Kill() {
	for _, c := range f.cmds {
		c.Process.Kill()
	}
}

// Close ends every generator (their connections close) and waits for them; a
// child that takes longer than 10 s is killed.
func (f *Fleet) Close() {
	if f.stopKill != nil {
		f.stopKill()
	}
	var wg sync.WaitGroup
	for i, p := range f.procs {
		wg.Go(func() {
			if i >= len(f.cmds) {
				p.Close()
				return
			}
			c := f.cmds[i]
			t := time.AfterFunc(childGrace, func() { c.Process.Kill() })
			defer t.Stop()
			p.Close()
			c.Wait()
		})
	}
	wg.Wait()
}
