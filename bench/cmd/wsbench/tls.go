package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/weir-ws/weir/bench/internal/srvkit"
)

// wss runs (issue #17): `run -tls` and `ratio -tls` start every server with a
// self-signed certificate (-tls-cert/-tls-key) and point the generators at
// wss://. The generators (weir's client, crypto/tls underneath) trust the
// certificate through SSL_CERT_FILE, which crypto/x509 reads on Linux: the
// certificate is its own CA and names 127.0.0.1. A stock crypto/tls client on
// a CPU with AES instructions negotiates TLS 1.3 with AES-128-GCM, the suite
// weir's record layer runs on the loops; the servers' /stats (weir: tls_loop,
// tls_goroutine) show that they did.

// tlsServers are the servers that serve wss (not the raw TCP baseline, nor
// Node, whose TLS is not part of the comparison asked for).
var tlsServers = map[string]bool{"weir": true, "weir-inline": true, "weir-goroutine": true,
	"gws": true, "gorilla": true, "nbio": true, "gobwas": false, "coder": false}

// setupTLS writes the certificate and makes this process and its children trust it.
func (r *runner) setupTLS() {
	dir, err := os.MkdirTemp("", "wsbench-tls-")
	if err != nil {
		fatal(err)
	}
	r.tlsCert, r.tlsKey, err = srvkit.WriteSelfSigned(dir)
	if err != nil {
		fatal(err)
	}
	os.Setenv("SSL_CERT_FILE", r.tlsCert)
}

// serverArgs are the TLS flags for a server, none without -tls.
func (r *runner) serverArgs() []string {
	if r.tlsCert == "" {
		return nil
	}
	return []string{"-tls-cert", r.tlsCert, "-tls-key", r.tlsKey}
}

// target is the generators' target for a server's host:port.
func (r *runner) target(hostport string) string {
	if r.tlsCert == "" {
		return hostport
	}
	return "wss://" + hostport + "/"
}

// keepTLS drops the servers that do not serve wss when the run is over TLS.
func keepTLS(on bool, servers []server) []server {
	if !on {
		return servers
	}
	var out []server
	for _, s := range servers {
		if tlsServers[s.name] || strings.HasPrefix(s.name, "weir@") { // other weir builds (before/after runs)
			out = append(out, s)
		} else {
			fmt.Fprintf(os.Stderr, "wss: skipping %s (no TLS variant)\n", s.name)
		}
	}
	return out
}

// tlsStats are the TLS counters a weir server adds to /stats.
type tlsStats struct {
	Loop      uint64 `json:"tls_loop"`
	Goroutine uint64 `json:"tls_goroutine"`
	Failed    uint64 `json:"tls_failed"`
	Busy      uint64 `json:"tls_busy"`
}

// saveIdleProfiles writes what an idle server holds into the -profile folder:
// idle-<name>.heap (/debug/pprof/heap after a GC; the server samples finer
// with SRVKIT_MEMPROFILERATE) and idle-<name>.memstats.json (runtime.MemStats:
// heap in use, idle, released, stacks, the GC goal), taken before /free.
func (r *runner) saveIdleProfiles(sp *srvProc, name string) {
	for path, file := range map[string]string{"/debug/pprof/heap?gc=1": ".heap", "/memstats": ".memstats.json",
		"/memclasses": ".memclasses.json"} {
		r.saveIdleFile(sp, name, path, file)
	}
}

// saveIdleFile writes what the server answers at path into the -profile
// folder as idle-<name><file>. /memclasses (runtime/metrics' memory classes,
// no GC) is also read before the connections (.memclasses-0.json, beside the
// baseline RSS) and before /stats' GC (.memclasses-pre.json).
func (r *runner) saveIdleFile(sp *srvProc, name, path, file string) {
	os.MkdirAll(r.p.profileDir, 0o755)
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + sp.stats + path)
	if err != nil {
		r.progress("%s: %v\n", path, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(r.p.profileDir, "idle-"+name+file))
	if err == nil {
		io.Copy(f, resp.Body)
		f.Close()
	}
}
