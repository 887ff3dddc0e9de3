package engine

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// wss under Config.GoroutinePerConn: no loops, but the TLS handshakes still
// run in MaxTLSHandshakes slots within HandshakeTimeout, and TLSMetrics count
// them (Goroutine, Failed, Busy) as they do beside the loops.
func TestTLSGoroutinePerConnCounted(t *testing.T) {
	t.Parallel()
	cfg := Config{GoroutinePerConn: true, MaxTLSHandshakes: 1, HandshakeTimeout: 400 * time.Millisecond}
	forTLSListeners(t, cfg, func(t *testing.T, s *Server, addr string) {
		rc := dialRawTLS(t, addr, nil)
		echoOver(t, rc)
		// A client that does not trust the certificate fails its handshake.
		if nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{ServerName: "localhost"}); err == nil {
			nc.Close()
			t.Fatal("an untrusted certificate was accepted")
		}
		// Two silent connections: the first holds the one slot until its
		// timeout, the second waits for it, then fails or goes busy
		// (which, depends on who wakes first at about the same instant).
		for range 2 {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
		}
		var m TLSMetrics
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			m = s.TLSMetrics()
			if m.Goroutine == 1 && m.Loop == 0 && m.Failed+m.Busy == 3 {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("TLS metrics %+v, want Goroutine 1 and Failed+Busy 3", m)
			}
		}
	})
	t.Run("Client", func(t *testing.T) {
		t.Parallel()
		_, addr := startTLS(t, echoOnly{}, Config{})
		cl := cliClient(t, nil, Config{GoroutinePerConn: true})
		c := cliDial(t, cl, "wss://"+addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
		defer c.Close(1000, "")
		if st, ok := c.TLSConnectionState(); !ok || st.Version != tls.VersionTLS13 {
			t.Fatalf("TLS state %v %+v", ok, st)
		}
		if m := cl.TLSMetrics(); m != (TLSMetrics{Goroutine: 1}) {
			t.Fatalf("client TLS metrics %+v, want one connection in goroutine mode", m)
		}
	})
}
