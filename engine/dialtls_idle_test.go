package engine

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The idle footprint of wss clients: the server runs in a child process (this
// test binary again, TestTLSIdleServer), so the heap and goroutines the
// parent measures are the client's alone.

const idleServerEnv = "WEIR_TLS_IDLE_SERVER"

// TestDialTLSIdleFootprint dials 1,000 idle wss connections, on the loops and
// (for comparison: what every wss client did before the hand-off) in
// goroutine mode, and reports the client's heap and goroutines per
// connection.
func TestDialTLSIdleFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,000 TLS connections")
	}
	const n = 1000
	cmd := exec.Command(os.Args[0], "-test.run=^TestTLSIdleServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), idleServerEnv+"=1")
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
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "addr" {
		t.Fatalf("child: %q %v", line, err)
	}
	addr := f[1]
	ca, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	for _, gpc := range []bool{false, true} {
		cl := cliClient(t, NopHandler{}, Config{GoroutinePerConn: gpc})
		o := &DialOptions{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
		warm := cliDial(t, cl, "wss://"+addr+"/", o)
		heap0, g0 := settledHeap()
		conns := make([]*Conn, 0, n)
		for range n {
			conns = append(conns, cliDial(t, cl, "wss://"+addr+"/", o))
		}
		heap1, g1 := settledHeap()
		per := float64(int64(heap1)-int64(heap0)) / n
		gper := float64(g1-g0) / n
		t.Logf("%d idle wss client connections, goroutine mode %v: heap %.0f B and %.2f goroutines per connection; %+v",
			n, gpc, per, gper, cl.TLSMetrics())
		if !gpc {
			if g1-g0 >= 10 {
				t.Errorf("goroutines grew by %d for %d connections on the loops", g1-g0, n)
			}
			if per > 12<<10 {
				t.Errorf("heap per idle connection %.0f B", per)
			}
		}
		for _, c := range conns {
			c.Abort()
		}
		warm.Abort()
		cl.Close()
	}
}

// TestTLSIdleServer is the child of TestDialTLSIdleFootprint: a ListenTLS
// server that says its address and runs until its stdin closes.
func TestTLSIdleServer(t *testing.T) {
	if os.Getenv(idleServerEnv) == "" {
		t.Skip("the child of TestDialTLSIdleFootprint")
	}
	s, err := NewServer(NopHandler{}, &Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.ListenTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("addr", s.Addr(), base64.StdEncoding.EncodeToString(cliTestCert(t).certPEM))
	io.Copy(io.Discard, os.Stdin)
}
