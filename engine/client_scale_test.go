package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Scale, client side: one process dials 10,000 connections on one Client, and the
// client's goroutine count does not grow with them. The server runs in a child
// process (this test binary re-executed as TestHelperServerProcess), so the two
// ends do not share one process's open-file limit (20,000 here).

const (
	csEnv   = "WEIR_HELPER_SERVER"
	csAddr  = "WEIR_HELPER_ADDR "
	csConns = 10000
	// csSources spreads the client sockets over 127.0.0.1..127.0.0.csSources, so
	// ephemeral ports of one source address do not run short.
	csSources = 4
	// csDialers is how many goroutines dial at once; they exit when done.
	csDialers = 8
	// csGoroutineSlack is how many goroutines the client may have gained with all
	// its connections open and idle: transient ones only, never one per connection.
	csGoroutineSlack = 8
)

// TestHelperServerProcess is the child process of TestClientScale10k: with
// WEIR_HELPER_SERVER=1 it serves an echo server on 127.0.0.1:0, prints
// "WEIR_HELPER_ADDR host:port" and serves until its stdin closes.
func TestHelperServerProcess(t *testing.T) {
	if os.Getenv(csEnv) != "1" {
		t.Skip("the server process of TestClientScale10k; runs only when re-executed with " + csEnv + "=1")
	}
	s, err := NewServer(csEcho{}, &Config{PingInterval: -1, Backlog: 4096}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%s\n", csAddr, s.Addr())
	io.Copy(io.Discard, os.Stdin)
	s.Close()
}

type csEcho struct{ NopHandler }

func (csEcho) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// csHandler is the client connections' Handler: it counts echoes.
type csHandler struct {
	NopHandler
	echoes atomic.Int64
	got    chan struct{}
}

func (h *csHandler) OnMessage(*Conn, frame.Opcode, []byte) {
	h.echoes.Add(1)
	select {
	case h.got <- struct{}{}:
	default:
	}
}

// csStartServer re-executes the test binary as the server and returns its address
// and a function that stops it.
func csStartServer(t *testing.T) (string, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), csEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, stdout := startPiped(t, cmd)
	done := make(chan error, 1)
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), csAddr); ok && !sent {
				addrc <- a
				sent = true
			}
		}
		if !sent {
			close(addrc)
		}
		done <- cmd.Wait()
	}()
	stop := func() {
		stdin.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server process: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Error("server process did not stop when its stdin closed")
		}
	}
	select {
	case a, ok := <-addrc:
		if !ok {
			stop()
			t.Fatal("server process printed no address")
		}
		return a, stop
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("server process did not start")
	}
	return "", nil
}

func TestClientScale10k(t *testing.T) {
	n := csConns
	if testing.Short() {
		n = 1000
	}
	addr, stop := csStartServer(t)
	defer stop()
	h := &csHandler{got: make(chan struct{}, 1)}
	cl, err := NewClient(h, &Config{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	runtime.GC()
	runtime.GC()
	g0 := runtime.NumGoroutine()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	sources := csSources
	if !cliCanBind(net.IPv4(127, 0, 0, csSources)) {
		sources = 1
	}
	start := time.Now()
	conns := make([]*Conn, n)
	var (
		wg      sync.WaitGroup
		next    atomic.Int64
		errOnce sync.Once
		dialErr error
	)
	for range csDialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%sources))}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				c, _, err := cl.Dial(ctx, "ws://"+addr+"/", &DialOptions{LocalAddr: local, NoProxy: true})
				cancel()
				if err != nil {
					errOnce.Do(func() { dialErr = fmt.Errorf("dial %d: %w", i, err) })
					next.Store(int64(n)) // stop the other dialers
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if dialErr != nil {
		t.Fatal(dialErr)
	}
	elapsed := time.Since(start)
	if got := cl.NumConns(); got != n {
		t.Fatalf("NumConns %d, want %d", got, n)
	}

	// The dialers are gone; what is left is the client's own (loops, workers,
	// timer) and transient runtime goroutines, which may take a moment to end.
	g1 := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); g1 > g0+csGoroutineSlack && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		g1 = runtime.NumGoroutine()
	}
	runtime.GC()
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	heap := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("%d client connections dialled in %v (%.0f/s); goroutines %d before, %d with all open (slack %d); "+
		"heap %.0f B per idle client connection (HeapAlloc %+d B, the []*Conn slice included); sys %d MiB",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), g0, g1, csGoroutineSlack,
		float64(heap)/float64(n), heap, m1.Sys>>20)
	if g1 > g0+csGoroutineSlack {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines grew from %d to %d with %d connections\n%s", g0, g1, n, buf[:runtime.Stack(buf, true)])
	}

	// The connections are live: a sample of them, spread over the whole set and
	// so over every loop and source address, echoes.
	const sample = 200
	for i := 0; i < sample; i++ {
		c := conns[i*n/sample]
		if c.State() != StateOpen {
			t.Fatalf("conn %d: state %v", i*n/sample, c.State())
		}
		if err := c.WriteText("ping"); err != nil {
			t.Fatalf("conn %d: %v", i*n/sample, err)
		}
		select {
		case <-h.got:
		case <-time.After(cliWait):
			t.Fatalf("conn %d: no echo", i*n/sample)
		}
	}
	if h.echoes.Load() != sample {
		t.Fatalf("%d echoes, want %d", h.echoes.Load(), sample)
	}
	runtime.KeepAlive(conns)
}
