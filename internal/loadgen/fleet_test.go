package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
)

// childEnv makes this test binary a generator child: Serve on stdin and stdout
// with the options after "--" (see TestMain).
const childEnv = "LOADGEN_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		o, err := ParseArgs(args)
		if err == nil {
			err = Serve(context.Background(), o, os.Stdin, os.Stdout, os.Stderr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testSpawn runs this test binary as a child generator.
func testSpawn(t *testing.T) Spawn {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return func(o Options) *exec.Cmd {
		cmd := exec.Command(self, append([]string{"-test.run=^$", "--"}, o.Args()...)...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		cmd.Stderr = os.Stderr
		return cmd
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		conns, base, procs int
		want               []int // connections per generator
	}{
		{10, 0, 3, []int{4, 3, 3}},
		{10, 5, 1, []int{10}},
		{2, 0, 4, []int{1, 1, 0, 0}},
		{7, 100, 0, []int{7}}, // 0 processes: one
	}
	for _, tt := range tests {
		o := Options{Target: "127.0.0.1:1", Conns: tt.conns, Base: tt.base, Sources: 3, Size: 99}
		got := Split(o, tt.procs)
		if len(got) != len(tt.want) {
			t.Fatalf("Split(%d, %d): %d generators, want %d", tt.conns, tt.procs, len(got), len(tt.want))
		}
		base := tt.base
		for i, g := range got {
			if g.Conns != tt.want[i] || g.Base != base || g.Sources != 3 || g.Size != 99 || g.Target != o.Target {
				t.Errorf("Split(%d, %d)[%d] = %+v, want %d connections from %d", tt.conns, tt.procs, i, g, tt.want[i], base)
			}
			base += g.Conns
		}
	}
}

// TestSplitRate: a rate is shared by connections, a fan-out's by publishers.
func TestSplitRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o    Options
		want []float64
	}{
		{Options{Conns: 10, Rate: 1000}, []float64{400, 300, 300}},
		{Options{Conns: 10, Rate: 100, Fanout: true, Publishers: 1}, []float64{100, 0, 0}},
		{Options{Conns: 10, Rate: 90, Fanout: true, Publishers: 3}, []float64{30, 30, 30}},
		{Options{Conns: 10}, []float64{0, 0, 0}},
	}
	for _, tt := range tests {
		got := Split(tt.o, 3)
		var sum float64
		for i, g := range got {
			if g.Rate != tt.want[i] {
				t.Errorf("Split(%+v)[%d].Rate = %v, want %v", tt.o, i, g.Rate, tt.want[i])
			}
			sum += g.Rate
		}
		if sum != tt.o.Rate {
			t.Errorf("Split(%+v): rates add up to %v", tt.o, sum)
		}
	}
}

// A fleet of two generators, in this process and as child processes, runs the
// echo protocol against one server: ready with every connection, mark, results
// from both, and no connection left once it is closed.
func TestFleet(t *testing.T) {
	t.Parallel()
	for _, children := range []bool{false, true} {
		t.Run(fmt.Sprintf("children=%v", children), func(t *testing.T) {
			t.Parallel()
			srv, _ := startEcho(t, engine.Config{})
			ctx := testCtx(t)
			opts := Split(Options{Target: srv.Addr().String(), Conns: 9, Size: 32, Sources: 2}, 2)
			var spawn Spawn
			if children {
				spawn = testSpawn(t)
			}
			f, err := StartFleet(ctx, opts, spawn, testLog{t})
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					f.Close()
				}
			}()
			if f.Len() != 2 {
				t.Fatalf("Len %d", f.Len())
			}
			var mu sync.Mutex
			seen := map[int]bool{}
			ready, err := f.Collect(ctx, EvReady, func(i int, e Event) {
				mu.Lock()
				seen[i] = true
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
			if ready[0].Conns != 5 || ready[1].Conns != 4 {
				t.Fatalf("ready: %+v", ready)
			}
			if err := f.Send(CmdGo); err != nil {
				t.Fatal(err)
			}
			var msgs [2]uint64
			for msgs[0] == 0 || msgs[1] == 0 {
				rs, err := f.Report(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range rs {
					msgs[i] += r.Msgs
					if r.Errors != 0 || r.Open != int64(opts[i].Conns) {
						t.Fatalf("generator %d: %+v", i, r)
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
			f.Close()
			closed = true
			for srv.NumConns() != 0 {
				if ctx.Err() != nil {
					t.Fatalf("%d connections left on the server", srv.NumConns())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A child that dies makes Collect fail with ErrExited instead of waiting, and
// cancelling the context kills the children.
func TestFleetChildGone(t *testing.T) {
	t.Parallel()
	srv, _ := startEcho(t, engine.Config{})
	ctx, cancel := context.WithCancel(testCtx(t))
	opts := Split(Options{Target: srv.Addr().String(), Conns: 2, Size: 8}, 2)
	f, err := StartFleet(ctx, opts, testSpawn(t), testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Collect(ctx, EvReady, nil); err != nil {
		t.Fatal(err)
	}
	cancel() // kills both children
	_, err = f.Collect(testCtx(t), EvResult, nil)
	if !errors.Is(err, ErrExited) {
		t.Fatalf("Collect after the children were killed: %v, want ErrExited", err)
	}
}
