package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/sockopt"
)

// tlsstorm is "wsbench tlsstorm": a handshake storm over TLS (issue #17), each
// handshake TCP + TLS 1.3 + the WebSocket upgrade, the connection then dropped
// (no closing handshake, as in run's storm), from -conc goroutines of this
// process for -dur. Two modes per server and round: "full" (no session cache:
// every handshake an ECDHE key exchange and a certificate signature) and
// "resumed" (one tls.ClientSessionCache shared by the goroutines: after the
// first, PSK resumption with ECDHE, no certificate). The client is crypto/tls
// plus a minimal upgrade request, not weir's, so that the session cache is the
// only difference. Rounds interleave the servers in a rotated order; the
// report has medians [min-max] and per-round ratios weir ÷ server.

// stormCell is one server, mode and round.
type stormCell struct {
	Server     string  `json:"server"`
	Mode       string  `json:"mode"` // full, resumed
	Round      int     `json:"round"`
	Handshakes int64   `json:"handshakes"`
	Resumed    int64   `json:"resumed"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"per_sec"`
	CPUus      float64 `json:"server_cpu_us_per_handshake"`
	Load1      float64 `json:"load1"`
	TLSLoop    uint64  `json:"tls_loop,omitempty"` // weir: connections that went onto the loops
	FirstErr   string  `json:"first_error,omitempty"`
}

var stormModes = []string{"full", "resumed"}

func runTLSStorm(args []string) {
	fs := flag.NewFlagSet("tlsstorm", flag.ExitOnError)
	only := fs.String("servers", "weir,weir-goroutine,gorilla,nbio", "servers")
	rounds := fs.Int("rounds", 3, "rounds")
	dur := fs.Duration("dur", 3*time.Second, "storm length per cell")
	conc := fs.Int("conc", 32, "dialling goroutines")
	rtt := fs.Duration("rtt", 0, "a far client: each client holds its second flight (Finished) back this long, so that the server's handshake slot waits one round trip on the network (run with -conc above the server's slots)")
	out := fs.String("out", "", "write the cells as JSON here")
	prof := fs.String("profile", "", "write CPU profiles of the weir servers into this folder")
	fs.Parse(args)
	servers := pickServers(allServers(), *only)
	servers = keepTLS(true, servers)
	killChildrenOnSignal()
	self, _ := os.Executable()
	dir, _ := os.Getwd()
	r := &runner{dir: dir, self: self, res: &Results{}}
	r.setupTLS()
	pem, err := os.ReadFile(r.tlsCert)
	if err != nil {
		fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	res := struct {
		Command string      `json:"command"`
		Started string      `json:"started"`
		Cells   []stormCell `json:"cells"`
	}{Command: "wsbench tlsstorm " + strings.Join(args, " "), Started: time.Now().UTC().Format(time.RFC3339)}
	for round := range *rounds {
		for _, s := range rotated(servers, round) {
			r.label = fmt.Sprintf("r%d %s", round, s.name)
			profile := ""
			if *prof != "" && isWeir(s.name) {
				os.MkdirAll(*prof, 0o755)
				profile, _ = filepath.Abs(filepath.Join(*prof, fmt.Sprintf("tlsstorm-%s-r%d.pprof", s.name, round)))
			}
			sp, err := r.startServer(s, false, profile)
			if err != nil {
				r.fail("%v", err)
				continue
			}
			for _, mode := range stormModes {
				r.label = fmt.Sprintf("r%d %s %s", round, s.name, mode)
				c := r.tlsStormCell(sp, roots, mode == "resumed", *dur, *conc, *rtt)
				c.Server, c.Mode, c.Round = s.name, mode, round
				res.Cells = append(res.Cells, c)
				r.progress("%.0f handshakes/s, server CPU %.0f µs/handshake, resumed %d/%d, errors %d, load %.1f, tls loop %d\n",
					c.PerSec, c.CPUus, c.Resumed, c.Handshakes, c.Errors, c.Load1, c.TLSLoop)
				time.Sleep(500 * time.Millisecond)
			}
			sp.stop()
		}
	}
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		os.WriteFile(*out, b, 0o644)
	}
	fmt.Print(tlsStormReport(res.Cells, servers))
}

// tlsStormCell runs one storm against sp.
func (r *runner) tlsStormCell(sp *srvProc, roots *x509.CertPool, resume bool, dur time.Duration, conc int, rtt time.Duration) stormCell {
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if resume {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	}
	var before tlsStats
	sp.get("/stats", &before)
	var hs, resumed, errs, seq atomic.Int64
	var firstErr atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	c0, t0 := sp.cpu(), time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(seq.Add(1))
				did, err := wssHandshake(sp.ws, srcAddr(i), cfg, rtt)
				switch {
				case err != nil:
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				default:
					hs.Add(1)
					if did {
						resumed.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	c1, t1 := sp.cpu(), time.Now()
	var after tlsStats
	sp.get("/stats", &after)
	c := stormCell{Handshakes: hs.Load(), Resumed: resumed.Load(), Errors: errs.Load(),
		Seconds: t1.Sub(t0).Seconds(), Load1: load1(), TLSLoop: after.Loop - before.Loop}
	if e, ok := firstErr.Load().(string); ok {
		c.FirstErr = e
	}
	c.PerSec = float64(c.Handshakes) / c.Seconds
	if c.Handshakes > 0 {
		c.CPUus = (c1 - c0) / float64(c.Handshakes) * 1e6
	}
	return c
}

// srcAddr spreads the storm over 127.0.0.2-9, so that TIME_WAIT (the client
// closes first) does not run out of one address's ports.
func srcAddr(i int) net.IP { return net.IPv4(127, 0, 0, byte(2+i%8)) }

var errNot101 = errors.New("upgrade refused")

// wssHandshake opens one wss connection to hostport from ip and drops it:
// TCP, TLS (cfg), the WebSocket upgrade request and the 101. It reports
// whether TLS resumed a session.
func wssHandshake(hostport string, ip net.IP, cfg *tls.Config, rtt time.Duration) (bool, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}, Control: sockopt.BindNoPort}
	nc, err := d.Dial("tcp", hostport)
	if err != nil {
		return false, err
	}
	defer nc.Close() // the TCP socket: no close_notify, no closing handshake
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	var tnc net.Conn = nc
	if rtt > 0 {
		tnc = &farConn{Conn: nc, rtt: rtt}
	}
	tc := tls.Client(tnc, cfg)
	if err := tc.Handshake(); err != nil {
		return false, err
	}
	if _, err := tc.Write([]byte("GET / HTTP/1.1\r\nHost: " + hostport + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")); err != nil {
		return false, err
	}
	// Reading the response also reads the server's NewSessionTicket (sent
	// before it), which the session cache keeps for the next handshake.
	br := bufio.NewReaderSize(tc, 512)
	line, err := br.ReadString('\n')
	if err != nil {
		return false, err
	}
	if !strings.HasPrefix(line, "HTTP/1.1 101") {
		return false, fmt.Errorf("%w: %q", errNot101, strings.TrimSpace(line))
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return false, err
		}
		if l == "\r\n" {
			break
		}
	}
	st := tc.ConnectionState()
	if st.Version != tls.VersionTLS13 {
		return false, fmt.Errorf("negotiated %s, not TLS 1.3", tls.VersionName(st.Version))
	}
	return st.DidResume, nil
}

// tlsStormReport renders the cells: per mode and server the medians [min-max]
// over rounds and the paired per-round ratios of weir's CPU per handshake to
// the server's.
func tlsStormReport(cells []stormCell, servers []server) string {
	var b strings.Builder
	mr := func(v []float64, f string) string {
		if len(v) == 0 {
			return "-"
		}
		s := slices.Clone(v)
		slices.Sort(s)
		return fmt.Sprintf(f+" ["+f+"-"+f+"]", median(slices.Clone(s)), s[0], s[len(s)-1])
	}
	get := func(srv, mode string, round int) *stormCell {
		for i := range cells {
			if c := &cells[i]; c.Server == srv && c.Mode == mode && c.Round == round {
				return c
			}
		}
		return nil
	}
	for _, mode := range stormModes {
		fmt.Fprintf(&b, "\n#### %s handshakes\n\n| server | handshakes/s | server CPU µs/handshake | weir ÷ server CPU (paired) | resumed | errors | load1 |\n|---|---|---|---|---|---|---|\n", mode)
		for _, s := range servers {
			var rate, cpu, ratio, ld []float64
			var n, res, errs int64
			for i := range cells {
				c := &cells[i]
				if c.Server != s.name || c.Mode != mode || c.Handshakes == 0 {
					continue
				}
				rate, cpu, ld = append(rate, c.PerSec), append(cpu, c.CPUus), append(ld, c.Load1)
				n, res, errs = n+c.Handshakes, res+c.Resumed, errs+c.Errors
				if w := get("weir", mode, c.Round); w != nil && w != c && w.CPUus > 0 && c.CPUus > 0 {
					ratio = append(ratio, w.CPUus/c.CPUus)
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d/%d | %d | %s |\n", s.name, mr(rate, "%.0f"), mr(cpu, "%.0f"),
				mr(ratio, "%.2f"), res, n, errs, mr(ld, "%.1f"))
		}
	}
	return b.String()
}

// farConn is a client's socket that holds its second write (the client's
// Finished, RFC 8446 §4.4.4) back by rtt: the server, which has sent its flight,
// waits that long in its handshake slot, as it would for a client one round trip
// away.
type farConn struct {
	net.Conn
	rtt    time.Duration
	writes int
}

func (c *farConn) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == 2 {
		time.Sleep(c.rtt)
	}
	return c.Conn.Write(p)
}
