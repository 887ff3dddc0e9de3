package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

// benchChildGrace is how long a child may take to close its connections and exit
// before it is killed.
const benchChildGrace = 10 * time.Second

// benchFleet is a run's generators: one in this process, or child processes (this
// executable re-run as `bench -child`), all driven with loadgen's protocol.
type benchFleet struct {
	procs    []*loadgen.Proc
	cmds     []*exec.Cmd // the children, by index; empty in-process
	stopKill func() bool // unregisters the kill on cancellation
}

// startBenchFleet starts one generator per element of opts: in this process when
// there is one, else as children. Cancelling ctx kills the children.
func startBenchFleet(ctx context.Context, opts []loadgen.Options, stderr io.Writer) (*benchFleet, error) {
	f := &benchFleet{}
	if len(opts) == 1 {
		f.procs = append(f.procs, loadgen.Local(ctx, opts[0], stderr))
		return f, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: finding this executable to run children: %w", err)
	}
	for _, o := range opts {
		cmd := exec.Command(self, append([]string{"bench", benchChildFlag}, o.Args()...)...)
		cmd.Env = append(os.Environ(), benchChildEnv+"=1")
		cmd.Stderr = stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			f.close()
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			f.close()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			f.close()
			return nil, fmt.Errorf("bench: starting a child: %w", err)
		}
		f.cmds = append(f.cmds, cmd)
		f.procs = append(f.procs, loadgen.NewProc(in, out))
	}
	f.stopKill = context.AfterFunc(ctx, f.kill) // at once if ctx has already ended
	return f, nil
}

// send gives every generator cmd.
func (f *benchFleet) send(cmd string) error {
	for i, p := range f.procs {
		if err := p.Send(cmd); err != nil {
			return fmt.Errorf("bench: generator %d: %w", i+1, err)
		}
	}
	return nil
}

// collect waits for the next event named ev from every generator. Earlier events
// (progress) go to seen, from one goroutine per generator at once. The first
// failure ends the wait.
func (f *benchFleet) collect(ctx context.Context, ev string, seen func(i int, e loadgen.Event)) ([]loadgen.Event, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]loadgen.Event, len(f.procs))
	var wg sync.WaitGroup
	for i, p := range f.procs {
		wg.Go(func() {
			var other func(loadgen.Event)
			if seen != nil {
				other = func(e loadgen.Event) { seen(i, e) }
			}
			e, err := p.Await(ctx, ev, other)
			if err != nil {
				cancel(fmt.Errorf("bench: generator %d: %w", i+1, err))
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

// report asks every generator for its counters.
func (f *benchFleet) report(ctx context.Context) ([]loadgen.Event, error) {
	if err := f.send(loadgen.CmdReport); err != nil {
		return nil, err
	}
	return f.collect(ctx, loadgen.EvResult, nil)
}

// kill ends every child at once.
func (f *benchFleet) kill() {
	for _, c := range f.cmds {
		c.Process.Kill()
	}
}

// close ends every generator (their connections close) and waits for them; a
// child that takes longer than benchChildGrace is killed.
func (f *benchFleet) close() {
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
			t := time.AfterFunc(benchChildGrace, func() { c.Process.Kill() })
			defer t.Stop()
			p.Close()
			c.Wait()
		})
	}
	wg.Wait()
}
