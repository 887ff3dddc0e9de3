package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// Scale: 10,000 open, idle connections cost the server no goroutine each and a few
// hundred bytes of heap each. The client sockets live in a child process (this test
// binary re-executed as TestHelperDialer), so the two ends do not share one process's
// open-file limit.

const (
	scaleEnvAddr  = "WEIR_DIALER_ADDR"
	scaleEnvCount = "WEIR_DIALER_COUNT"
	// scaleEnvDeflate makes the child offer permessage-deflate and send one
	// compressed 1 KiB message per connection (the server echoes it), so that
	// context-takeover histories exist on both sides.
	scaleEnvDeflate = "WEIR_DIALER_DEFLATE"
	scaleConns      = 10000
	// scaleSources spreads the client sockets over 127.0.0.1..127.0.0.scaleSources,
	// so that ephemeral ports do not run short.
	scaleSources = 8
	// scaleGoroutineSlack is how many goroutines the server may have gained with
	// 10,000 idle connections: transient ones only, never one per connection.
	scaleGoroutineSlack = 8
)

// TestHelperDialer is the child process of TestScale10k and BenchmarkIdleConnHeap: it
// opens WEIR_DIALER_COUNT WebSocket connections to WEIR_DIALER_ADDR, prints
// "READY n" once all are open, and holds them until its stdin is closed. Run
// directly it does nothing.
func TestHelperDialer(t *testing.T) {
	addr := os.Getenv(scaleEnvAddr)
	if addr == "" {
		return
	}
	n, err := strconv.Atoi(os.Getenv(scaleEnvCount))
	if err != nil {
		fmt.Printf("ERROR bad count: %v\n", err)
		os.Exit(2)
	}
	conns, err := scaleDial(addr, n)
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("READY %d\n", len(conns))
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// scaleDial opens n connections and completes their handshakes, a few dozen at a time.
func scaleDial(addr string, n int) ([]net.Conn, error) {
	ext := ""
	var first []byte
	if os.Getenv(scaleEnvDeflate) != "" {
		ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
		z, err := deflate.Compress(nil, jsonish(1<<10), 15, nil)
		if err != nil {
			return nil, err
		}
		first = frameBytes(true, frame.OpText, frame.Rsv1, z, true)
	}
	req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" + ext + "\r\n")
	conns := make([]net.Conn, n)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	const dialers = 32
	for d := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 512)
			for i := d; i < n; i += dialers {
				c, err := scaleDialOne(addr, i, req, buf)
				if err == nil && first != nil {
					_, err = c.Write(first)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i, err) })
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return nil, firstErr
	}
	return conns, nil
}

func scaleDialOne(addr string, i int, req, buf []byte) (net.Conn, error) {
	d := net.Dialer{
		Timeout:   10 * time.Second,
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%scaleSources))},
	}
	var c net.Conn
	var err error
	for try := 0; ; try++ {
		c, err = d.Dial("tcp", addr)
		if err == nil {
			break
		}
		if try == 5 {
			return nil, err
		}
		time.Sleep(50 * time.Millisecond) // a full accept backlog: try again
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, err
	}
	got := 0
	for !bytes.Contains(buf[:got], []byte("\r\n\r\n")) {
		if got == len(buf) {
			c.Close()
			return nil, fmt.Errorf("response head over %d bytes", len(buf))
		}
		k, err := c.Read(buf[got:])
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("reading the response: %w", err)
		}
		got += k
	}
	if !bytes.HasPrefix(buf[:got], []byte("HTTP/1.1 101 ")) {
		c.Close()
		return nil, fmt.Errorf("response %q", buf[:min(got, 40)])
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// scaleResult is what one run measured.
type scaleResult struct {
	goroutinesBefore, goroutinesAfter int
	heapBefore, heapAfter             uint64
	perConn                           float64
	stackPerConn                      float64 // goroutine stacks (goroutine mode)
}

// scaleRun starts a server, has a child process open n idle connections to it, and
// measures the server's goroutines and heap with and without them.
func scaleRun(tb testing.TB, cfg Config, n int) scaleResult {
	tb.Helper()
	cfg.PingInterval = -1 // idle means idle: no keepalive traffic during the measurement
	var h Handler = NopHandler{}
	if cfg.Compression != nil {
		h = scaleEcho{} // echo the one compressed message: histories both ways
	}
	s, addr := startServer(tb, h, cfg, nil)

	var res scaleResult
	var ms runtime.MemStats
	settle := func() {
		runtime.GC()
		runtime.GC() // a second cycle empties the sync.Pool victim caches
		runtime.ReadMemStats(&ms)
	}
	settle()
	res.goroutinesBefore = runtime.NumGoroutine()
	res.heapBefore = ms.HeapAlloc
	stackBefore := ms.StackInuse

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDialer$", "-test.count=1")
	cmd.Env = append(os.Environ(), scaleEnvAddr+"="+addr, scaleEnvCount+"="+strconv.Itoa(n))
	if cfg.Compression != nil {
		cmd.Env = append(cmd.Env, scaleEnvDeflate+"=1")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	finished := false
	defer func() {
		if !finished {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := bufio.NewScanner(stdout)
	ready := false
	for !ready && lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "READY "):
			ready = true
		case strings.HasPrefix(line, "ERROR "):
			tb.Fatalf("dialer: %s", line)
		}
	}
	if !ready {
		tb.Fatalf("dialer ended before its connections were open: %v", lines.Err())
	}
	waitFor(tb, func() bool { return s.NumConns() == n })
	if cfg.Compression != nil {
		// Every connection has had its message (and echoed it) before measuring.
		waitFor(tb, func() bool {
			got := 0
			for c := range s.Conns() {
				if c.Stats().MessagesOut > 0 {
					got++
				}
			}
			return got == n
		})
	}
	open := 0
	for range s.Conns() {
		open++
	}
	if open != n {
		tb.Errorf("Conns yields %d, want %d", open, n)
	}
	// Transient goroutines (a dispatch that found the pool queue full) end quickly.
	deadline := time.Now().Add(5 * time.Second)
	for {
		settle()
		res.goroutinesAfter = runtime.NumGoroutine()
		if res.goroutinesAfter <= res.goroutinesBefore+scaleGoroutineSlack || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.heapAfter = ms.HeapAlloc
	res.perConn = (float64(res.heapAfter) - float64(res.heapBefore)) / float64(n)
	res.stackPerConn = (float64(ms.StackInuse) - float64(stackBefore)) / float64(n)

	// The child hangs up; the server forgets every connection.
	stdin.Close()
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		tb.Errorf("dialer: %v", err)
	}
	finished = true
	waitFor(tb, func() bool { return s.NumConns() == 0 })
	return res
}

// TestScale10k: 10,000 idle connections add no goroutine to the server (only its
// loops and workers run) and are all counted; the heap cost per connection is
// logged (BenchmarkIdleConnHeap reports it as a metric). Not parallel: it counts the
// whole process's goroutines and heap.
func TestScale10k(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections")
	}
	for _, m := range modes {
		if m.cfg.GoroutinePerConn {
			continue // one goroutine per connection by design
		}
		t.Run(m.name, func(t *testing.T) {
			start := time.Now()
			r := scaleRun(t, m.cfg, scaleConns)
			t.Logf("%d idle connections in %v: goroutines %d before, %d after; heap %d -> %d bytes, %.0f B/conn (Conn struct %d B)",
				scaleConns, time.Since(start).Round(time.Millisecond), r.goroutinesBefore, r.goroutinesAfter,
				r.heapBefore, r.heapAfter, r.perConn, unsafe.Sizeof(Conn{}))
			if r.goroutinesAfter > r.goroutinesBefore+scaleGoroutineSlack {
				t.Errorf("goroutines grew from %d to %d with %d idle connections", r.goroutinesBefore, r.goroutinesAfter, scaleConns)
			}
		})
	}
}

// BenchmarkIdleConnHeap reports the server's heap bytes per idle connection
// (heapB/conn; the goal on the loops is at most 512) and goroutine stack bytes
// (stackB/conn: goroutine mode's two goroutines) with 10,000 connections held by
// a child process. One op is one whole measurement.
func BenchmarkIdleConnHeap(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var perConn, stack float64
			var grown int
			for range b.N {
				r := scaleRun(b, m.cfg, scaleConns)
				perConn += r.perConn
				stack += r.stackPerConn
				grown = max(grown, r.goroutinesAfter-r.goroutinesBefore)
			}
			b.ReportMetric(perConn/float64(b.N), "heapB/conn")
			b.ReportMetric(stack/float64(b.N), "stackB/conn")
			b.ReportMetric(float64(grown), "goroutines-grown")
		})
	}
}

// BenchmarkIdleConnHeapDeflate is BenchmarkIdleConnHeap with permessage-deflate
// negotiated and one 1 KiB message exchanged each way per connection, with and
// without context takeover.
func BenchmarkIdleConnHeapDeflate(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts deflate.Options
	}{
		{"takeover", deflate.Options{}},
		{"no-takeover", deflate.Options{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			opts := tc.opts
			var perConn float64
			for range b.N {
				r := scaleRun(b, Config{Compression: &opts}, scaleConns)
				perConn += r.perConn
			}
			b.ReportMetric(perConn/float64(b.N), "heapB/conn")
		})
	}
}

// scaleEcho echoes messages and records nothing (10,000 closes must not block).
type scaleEcho struct{ NopHandler }

func (scaleEcho) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }
