package engine

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"
)

// The idle footprint of wss on the loops: the clients run in a child process
// (this test binary again, TestTLSIdleClients), so the heap and goroutines the
// parent measures are the server's alone.

const idleEnv = "WEIR_TLS_IDLE_ADDR"

// TestTLSLoopIdleFootprint opens 1,000 idle wss connections on the loops and
// reports the server's heap per connection and its goroutines.
func TestTLSLoopIdleFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 TLS connections")
	}
	const n = 1000
	prof := os.Getenv("WEIR_TLS_IDLE_HEAPPROFILE") // a heap profile of the idle server, sampling every allocation
	if prof != "" {
		runtime.MemProfileRate = 1
	}
	s, addr := startTLS(t, NopHandler{}, Config{})
	heap0, g0 := settledHeap()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTLSIdleClients$", "-test.count=1")
	cmd.Env = append(os.Environ(), idleEnv+"="+addr, "WEIR_TLS_IDLE_N="+strconv.Itoa(n),
		"WEIR_TLS_IDLE_CA="+string(cliTestCert(t).certPEM))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child: %q %v", line, err)
	}
	for deadline := time.Now().Add(20 * time.Second); countOpen(s) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d open", countOpen(s), n)
		}
	}
	heap1, g1 := settledHeap()
	perConn := float64(int64(heap1)-int64(heap0)) / n
	if prof != "" {
		writeHeapProfile(t, prof)
	}
	t.Logf("%d idle wss connections on the loops: heap %.0f B per connection, goroutines %d -> %d; %+v",
		n, perConn, g0, g1, s.TLSMetrics())
	if g1-g0 > 8 {
		t.Errorf("goroutines grew by %d for %d idle connections", g1-g0, n)
	}
	// About 590 B (2026-12-07, the 352-byte Conn; 620 with the 384-byte one, 682 with the 448-byte
	// one): the Conn 352, the record layer one 192 B
	// allocation (256 until 2026-12-07; tlsloop.Conn: the compacted tls.ConnectionState, Reader and
	// Writer inline, the exporter secret instead of crypto/tls's exporter
	// closure, which kept about 120 in five allocations: 850), the loops' fd
	// tables about 20, the rest the odd AEAD not yet dropped; 916
	// with the 512-byte Conn, 1,150 with the whole ConnectionState, 1,360
	// before that, 2,900 without the idle AEAD drop.
	if perConn > 1000 {
		t.Errorf("heap per idle connection %.0f B", perConn)
	}
}

func writeHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}

func countOpen(s *Server) int {
	n := 0
	for range s.Conns() {
		n++
	}
	return n
}

func settledHeap() (uint64, int) {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, runtime.NumGoroutine()
}

// TestTLSIdleClients is the child of TestTLSLoopIdleFootprint: it opens the
// connections, says ready, and holds them until its stdin closes.
func TestTLSIdleClients(t *testing.T) {
	addr := os.Getenv(idleEnv)
	if addr == "" {
		t.Skip("the child of TestTLSLoopIdleFootprint")
	}
	n, _ := strconv.Atoi(os.Getenv("WEIR_TLS_IDLE_N"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(os.Getenv("WEIR_TLS_IDLE_CA")))
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	conns := make([]net.Conn, 0, n)
	for range n {
		nc, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
		var b [12]byte
		if _, err := io.ReadFull(nc, b[:]); err != nil || string(b[:]) != "HTTP/1.1 101" {
			t.Fatalf("handshake: %q %v", b, err)
		}
		conns = append(conns, nc)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, nc := range conns {
		nc.Close()
	}
}
