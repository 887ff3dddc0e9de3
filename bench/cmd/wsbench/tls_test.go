package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/bench/internal/srvkit"
	"github.com/weir-ws/weir/engine"
)

// tlsTestServer is weir's ListenTLS on a loopback port with a fresh
// certificate, and the roots that trust it.
func tlsTestServer(t *testing.T) (addr string, roots *x509.CertPool, srv *engine.Server) {
	t.Helper()
	o := &srvkit.Options{}
	var err error
	if o.TLSCert, o.TLSKey, err = srvkit.WriteSelfSigned(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	srv, err = engine.NewServer(engine.NopHandler{}, &engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenTLS("127.0.0.1:0", o.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	pem, err := os.ReadFile(o.TLSCert)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return srv.Addr().String(), roots, srv
}

// TestWSSHandshake: the storm's handshake completes the upgrade over TLS 1.3,
// resumes with a session cache from the second connection on and not without
// one, and refuses a server it cannot verify.
func TestWSSHandshake(t *testing.T) {
	t.Parallel()
	addr, roots, srv := tlsTestServer(t)
	for _, tt := range []struct {
		name       string
		cache      bool
		wantResume []bool
	}{
		{"full", false, []bool{false, false, false}},
		{"resumed", true, []bool{false, true, true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
			if tt.cache {
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			}
			for i, want := range tt.wantResume {
				did, err := wssHandshake(addr, net.IPv4(127, 0, 0, 1), cfg, 0)
				if err != nil {
					t.Fatalf("handshake %d: %v", i, err)
				}
				if did != want {
					t.Errorf("handshake %d: resumed %v, want %v", i, did, want)
				}
			}
		})
	}
	t.Run("untrusted", func(t *testing.T) {
		t.Parallel()
		_, err := wssHandshake(addr, net.IPv4(127, 0, 0, 1), &tls.Config{ServerName: "127.0.0.1", RootCAs: x509.NewCertPool()}, 0)
		var ue x509.UnknownAuthorityError
		if !errors.As(err, &ue) {
			t.Errorf("err = %v, want an unknown authority", err)
		}
	})
	t.Run("tls 1.2 refused by the storm", func(t *testing.T) {
		t.Parallel()
		_, err := wssHandshake(addr, net.IPv4(127, 0, 0, 1), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS12}, 0)
		if err == nil || !strings.Contains(err.Error(), "not TLS 1.3") {
			t.Errorf("err = %v, want the TLS 1.3 check", err)
		}
	})
	_ = srv
}

// TestTLSStormReport: weir's own row has no ratio; a peer's is weir's CPU
// divided by its own, per round.
func TestTLSStormReport(t *testing.T) {
	t.Parallel()
	cells := []stormCell{
		{Server: "weir", Mode: "full", Round: 0, Handshakes: 10, PerSec: 100, CPUus: 600},
		{Server: "gorilla", Mode: "full", Round: 0, Handshakes: 10, PerSec: 90, CPUus: 500},
		{Server: "weir", Mode: "full", Round: 1, Handshakes: 10, PerSec: 100, CPUus: 400},
		{Server: "gorilla", Mode: "full", Round: 1, Handshakes: 10, PerSec: 90, CPUus: 500},
	}
	out := tlsStormReport(cells, []server{{name: "weir"}, {name: "gorilla"}})
	for _, want := range []string{
		"| weir | 100 [100-100] | 500 [400-600] | - |",
		"| gorilla | 90 [90-90] | 500 [500-500] | 1.00 [0.80-1.20] |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestTLSGoals: each goal line says met or not met with its figure.
func TestTLSGoals(t *testing.T) {
	t.Parallel()
	r := &tlsRun{}
	r.idle.Idle = []IdleRow{{Server: "weir", Conns: 1000, RSSPerConnKiB: 2.5, RSSFreedPerConnKiB: 1.5, HeapPerConnKiB: 1, Goroutines: 16, TLSLoop: 1000}}
	r.echo.Cells = []ratioCell{
		{Server: "weir", Size: 64, Round: 0, Msgs: 1, CPUus: 10},
		{Server: "gws", Size: 64, Round: 0, Msgs: 1, CPUus: 20},
		{Server: "nbio", Size: 64, Round: 0, Msgs: 1, CPUus: 8},
	}
	// Beside the sleepers: 2.30 right after the storm, 1.80 once held.
	r.idleLoad = []Results{{Idle: []IdleRow{{Server: "weir", Conns: 1000, RSSPerConnKiB: 2.3, Goroutines: 16, TLSLoop: 1000,
		RSSHeld: []HeldRSS{{Seconds: 10, PerConnKiB: 2.2}, {Seconds: 150, PerConnKiB: 1.8}}}}}}
	out := tlsGoals(r)
	for _, want := range []string{
		"at most 2 KiB per connection (quiet run): **not met**, 2.50 KiB 3.5 s after the storm",
		"at most 2 KiB per connection (beside the sleepers): met, 1.80 KiB held idle 150 s (2.30 KiB 3.5 s after the storm",
		"No goroutine per idle wss connection (quiet run): met, 16 goroutines",
		"below every peer's: **not met** (closest: weir ÷ nbio = 1.25",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("goals lack %q:\n%s", want, out)
		}
	}
}

// TestTLSIdleSection: a results/tls-idle run (no storm.json) reads, and
// renders one heading level down, with weir@before's loop counter and no
// storm section.
func TestTLSIdleSection(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"idle.json": `{"command":"wsbench run -tls","idle":[{"server":"weir","conns":10,"rss_per_conn_kib":3,"tls":true,"tls_loop":10},` +
			`{"server":"weir@before","conns":10,"rss_per_conn_kib":6,"tls":true,"tls_loop":10}]}`,
		"echo.json": `{"command":"wsbench ratio -tls","cells":[{"server":"weir","round":0,"size":64,"conns":10,"msgs":5,"seconds":1,"cpu_us_per_msg":10},` +
			`{"server":"weir@before","round":0,"size":64,"conns":10,"msgs":5,"seconds":1,"cpu_us_per_msg":10}]}`,
	}
	r := readRunOf(t, "tls-idle", files)
	out := tlsIdleSection(r)
	for _, want := range []string{"### After the idle AEAD drop", "\n#### Idle wss connections", "\n##### 10 connections × 64 B",
		"| weir@before | 10 | 6.00 |", "10 / 0 |", "bench/results/tls-idle/*.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Handshake storm") || strings.Contains(out, "\n### Idle") {
		t.Errorf("storm section or unshifted heading:\n%s", out)
	}
}

// stampConn records when each write reached it.
type stampConn struct {
	net.Conn
	at []time.Time
}

func (c *stampConn) Write(p []byte) (int, error) {
	c.at = append(c.at, time.Now())
	return len(p), nil
}

// TestFarConnHoldsTheSecondFlight: -rtt holds back the client's second write
// (its Finished) and no other.
func TestFarConnHoldsTheSecondFlight(t *testing.T) {
	t.Parallel()
	const rtt = 40 * time.Millisecond
	s := &stampConn{}
	c := &farConn{Conn: s, rtt: rtt}
	start := time.Now()
	for range 3 {
		c.Write([]byte("x"))
	}
	if len(s.at) != 3 {
		t.Fatalf("%d writes reached the socket, want 3", len(s.at))
	}
	if d := s.at[0].Sub(start); d >= rtt {
		t.Errorf("first write held %v", d)
	}
	if d := s.at[1].Sub(s.at[0]); d < rtt {
		t.Errorf("second write held %v, want at least %v", d, rtt)
	}
}

// TestTLSIdleLoad: the idle runs beside the sleepers (idle-load*.json) are
// read in name order and rendered after the quiet one, with the held column.
func TestTLSIdleLoad(t *testing.T) {
	t.Parallel()
	row := func(rss string) string {
		return `{"command":"wsbench run -tls","idle":[{"server":"weir","conns":10,"rss_per_conn_kib":` + rss +
			`,"tls":true,"tls_loop":10,"rss_held":[{"s":10,"per_conn_kib":2.2},{"s":150,"per_conn_kib":1.8}]}]}`
	}
	files := map[string]string{
		"idle.json":        row("1.5"),
		"idle-load-1.json": row("2.3"),
		"idle-load-2.json": row("2.4"),
		"echo.json":        `{"command":"wsbench ratio -tls","cells":[]}`,
	}
	r := readRunOf(t, "tls", files)
	out := tlsMarkdown(r, nil)
	quiet := strings.Index(out, "| weir | 10 | 1.50 | 1.80 [2.20] |")
	first := strings.Index(out, "| weir | 10 | 2.30 | 1.80 [2.20] |")
	second := strings.Index(out, "| weir | 10 | 2.40 | 1.80 [2.20] |")
	if quiet < 0 || first < quiet || second < first || strings.Count(out, "#### The same beside") != 2 {
		t.Errorf("tables missing or out of order (%d, %d, %d):\n%s", quiet, first, second, out)
	}
	if !strings.Contains(out, "(beside the sleepers, run 2): met, 1.80 KiB held idle 150 s (2.40 KiB") {
		t.Errorf("goal line for the second load run missing:\n%s", out)
	}
}

// readRunOf writes files into a folder named name and reads it as a run.
func readRunOf(t *testing.T, name string, files map[string]string) *tlsRun {
	t.Helper()
	dir := t.TempDir() + "/" + name
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, body := range files {
		if err := os.WriteFile(dir+"/"+file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := readTLSRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
