package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

// The processes of a run: a server under test and the generator fleet.

// srvProc is a running server.
type srvProc struct {
	cmd   *exec.Cmd
	pid   int
	ws    string
	stats string
	pub   string // pub/sub servers: the publish ingress
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (r *runner) startServer(s server, deflate bool, profile string) (*srvProc, error) {
	args := append([]string{}, s.cmd[1:]...)
	args = append(args, "-addr", freePort(), "-stats", freePort())
	args = append(args, r.serverArgs()...)
	if deflate {
		args = append(args, "-deflate")
	}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	cmd := exec.Command(s.cmd[0], args...)
	cmd.Dir = r.dir
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	trackChild(cmd)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "LISTEN ") {
				line <- sc.Text()
			}
		}
	}()
	select {
	case l := <-line:
		p := &srvProc{cmd: cmd}
		for _, f := range strings.Fields(l)[1:] {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "ws":
				p.ws = v
			case "stats":
				p.stats = v
			case "pid":
				p.pid, _ = strconv.Atoi(v)
			case "pub":
				p.pub = v
			}
		}
		time.Sleep(300 * time.Millisecond) // let a just-started runtime settle
		return p, nil
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("no LISTEN line from %v", s.cmd)
	}
}

func (p *srvProc) stop() {
	defer untrackChild(p.cmd)
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

func (p *srvProc) get(path string, v any) error {
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + p.stats + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func (p *srvProc) cpu() float64 {
	c, _ := cpuSeconds(p.pid)
	return c
}

// genOptions are a generator's options before startGens fills in the target,
// the connections and the source addresses: the defaults `wsbench gen` has.
func genOptions() loadgen.Options {
	return loadgen.Options{Size: 64, Concurrency: 32, StormFor: 2 * time.Second}
}

// spawn runs this executable as `wsbench gen`, a generator child.
func (r *runner) spawn(o loadgen.Options) *exec.Cmd {
	cmd := exec.Command(r.self, append([]string{"gen"}, o.Args()...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// gens is a scenario's generator processes.
type gens struct{ f *loadgen.Fleet }

// startGens starts enough generator processes for n connections (procs: that
// many; 0: as many as the per-process limit needs) with o, and waits until all
// have connected, showing a live progress line.
func (r *runner) startGens(s server, target string, n, procs int, o loadgen.Options) (*gens, int, error) {
	if procs <= 0 {
		procs = max(1, (n+r.p.perGen-1)/r.p.perGen)
	}
	o.Target, o.Conns, o.Sources, o.Raw = r.target(target), n, r.p.nsrc, s.raw
	f, err := loadgen.StartFleet(context.Background(), loadgen.Split(o, procs), r.spawn, nil)
	if err != nil {
		return nil, 0, err
	}
	trackFleet(f)
	g := &gens{f: f}
	up := make([]atomic.Int64, procs)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var sum int64
				for i := range up {
					sum += up[i].Load()
				}
				r.progress("connecting %d/%d", sum, n)
			}
		}
	}()
	ready, err := g.collect(loadgen.EvReady, cmp.Or(r.p.connectMax, 3*time.Minute), func(i int, e loadgen.Event) { up[i].Store(e.Conns) })
	close(done)
	if err != nil {
		g.quit()
		return nil, 0, fmt.Errorf("connecting: %w", err)
	}
	total, failed := 0, int64(0)
	for _, e := range ready {
		total += int(e.Conns)
		failed += e.Failed
	}
	if failed > 0 {
		r.fail("%d connections failed", failed)
	}
	return g, total, nil
}

// send gives every generator cmd.
func (g *gens) send(cmd string) { g.f.Send(cmd) }

// collect waits up to timeout for the next event named ev from every generator;
// seen (nil: none) gets the events before it.
func (g *gens) collect(ev string, timeout time.Duration, seen func(int, loadgen.Event)) ([]loadgen.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return g.f.Collect(ctx, ev, seen)
}

// quit ends the generators and waits for them.
func (g *gens) quit() {
	g.f.Close()
	untrackFleet(g.f)
}
