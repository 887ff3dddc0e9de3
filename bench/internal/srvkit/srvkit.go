package srvkit

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options are the flags every benchmark server accepts.
type Options struct {
	Addr       string // WebSocket (or raw TCP) listen address
	StatsAddr  string // stats/trigger HTTP address
	Deflate    bool   // negotiate permessage-deflate where the library supports it
	Mode       string // library-specific variant (weir: pool, inline, goroutine)
	CPUProfile string // write a CPU profile here until the process is signalled
	PubAddr    string // pub/sub servers: the publish ingress address (StartIngress)
	TLSCert    string // serve wss with this certificate (PEM) ...
	TLSKey     string // ... and key (TLS, TLSConfig)

	// Extra, when set before Serve, adds its entries to every /stats answer
	// (e.g. weir's TLS counters: how many connections ran on the loops).
	Extra func() map[string]any

	pubBound string // the ingress address actually bound, once started
}

// Parse reads the common flags.
func Parse() *Options {
	o := &Options{}
	flag.StringVar(&o.Addr, "addr", "127.0.0.1:0", "listen address")
	flag.StringVar(&o.StatsAddr, "stats", "127.0.0.1:0", "stats/trigger HTTP address")
	flag.BoolVar(&o.Deflate, "deflate", false, "negotiate permessage-deflate")
	flag.StringVar(&o.Mode, "mode", "", "library-specific variant")
	flag.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile to this file until SIGTERM")
	flag.StringVar(&o.PubAddr, "pub", "127.0.0.1:0", "pub/sub servers: publish ingress address")
	flag.StringVar(&o.TLSCert, "tls-cert", "", "serve wss: certificate PEM file (with -tls-key)")
	flag.StringVar(&o.TLSKey, "tls-key", "", "serve wss: key PEM file")
	flag.Parse()
	// SRVKIT_MEMPROFILERATE samples the heap profile (/debug/pprof/heap) finer
	// than the default 512 KiB, for a per-connection breakdown (set early: it
	// applies to allocations from then on).
	if v, err := strconv.Atoi(os.Getenv("SRVKIT_MEMPROFILERATE")); err == nil && v > 0 {
		runtime.MemProfileRate = v
	}
	return o
}

// Fatal prints err and exits: a benchmark server that cannot start has nothing to
// fall back on.
func Fatal(err error) {
	fmt.Fprintln(os.Stderr, "server:", err)
	os.Exit(1)
}

// Serve announces the server, serves the stats endpoint, and blocks until SIGINT or
// SIGTERM. wsAddr is the address actually bound; broadcast sends p to every open
// connection and returns how many it was handed to; conns counts open connections.
func Serve(o *Options, wsAddr string, broadcast func(p []byte) int, conns func() int) {
	var prof *os.File
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			Fatal(err)
		}
		prof = f
	}
	ln, err := net.Listen("tcp", o.StatsAddr)
	if err != nil {
		Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		st := map[string]any{
			"heap_alloc":  m.HeapAlloc,
			"heap_inuse":  m.HeapInuse,
			"stack_inuse": m.StackInuse,
			"sys":         m.Sys,
			"goroutines":  runtime.NumGoroutine(),
			"conns":       conns(),
		}
		if o.Extra != nil {
			for k, v := range o.Extra() {
				st[k] = v
			}
		}
		writeJSON(w, st)
	})
	// /free returns what the runtime holds but does not use to the OS
	// (debug.FreeOSMemory: a GC, then the scavenger at once), so that an idle
	// measurement can tell memory the server keeps from memory the runtime has
	// not yet handed back after the connect phase's garbage.
	mux.HandleFunc("/free", func(w http.ResponseWriter, _ *http.Request) {
		debug.FreeOSMemory()
		writeJSON(w, map[string]any{"ok": true})
	})
	// /memstats is runtime.MemStats after a GC (without the size-class table):
	// where RSS goes beyond the live heap (heap idle not yet released, the GC
	// goal, stacks, span metadata).
	mux.HandleFunc("/memstats", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		m.BySize = [61]struct {
			Size    uint32
			Mallocs uint64
			Frees   uint64
		}{}
		m.PauseNs, m.PauseEnd = [256]uint64{}, [256]uint64{}
		writeJSON(w, m)
	})
	// /memclasses is runtime/metrics' /memory/classes/* (where the mapped
	// memory goes: heap objects, free but not released, released, stacks,
	// metadata, ...) with the GC goal and cycle count, without a GC: read
	// right after a storm, it shows what the collector has not yet seen.
	mux.HandleFunc("/memclasses", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, memClasses())
	})
	// /debug/pprof/ (heap, goroutine, ...): what an idle connection holds.
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/broadcast", func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		if size <= 0 {
			size = 128
		}
		p := make([]byte, size)
		for i := range p {
			p[i] = 'b'
		}
		start := time.Now()
		n := broadcast(p)
		writeJSON(w, map[string]any{"sent": n, "loop_ns": time.Since(start).Nanoseconds()})
	})
	go http.Serve(ln, mux)
	pub := ""
	if o.pubBound != "" {
		pub = " pub=" + o.pubBound
	}
	fmt.Printf("LISTEN ws=%s stats=%s pid=%d%s\n", wsAddr, ln.Addr(), os.Getpid(), pub)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if prof != nil {
		pprof.StopCPUProfile()
		prof.Close()
	}
	os.Exit(0)
}

// memClasses reads runtime/metrics' memory classes, the GC goal, the
// number of GC cycles and the goroutines.
func memClasses() map[string]uint64 {
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || d.Name == "/gc/heap/goal:bytes" ||
			d.Name == "/gc/cycles/total:gc-cycles" || d.Name == "/sched/goroutines:goroutines" ||
			d.Name == "/gc/scan/stack:bytes" || d.Name == "/gc/heap/live:bytes" {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	out := make(map[string]uint64, len(samples))
	for _, sm := range samples {
		if sm.Value.Kind() == metrics.KindUint64 {
			out[sm.Name] = sm.Value.Uint64()
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Registry is the set of open connections a goroutine-per-connection server keeps
// for broadcast.
type Registry[T comparable] struct {
	mu sync.Mutex
	m  map[T]struct{}
}

// Add registers c.
func (r *Registry[T]) Add(c T) {
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[T]struct{})
	}
	r.m[c] = struct{}{}
	r.mu.Unlock()
}

// Remove forgets c.
func (r *Registry[T]) Remove(c T) {
	r.mu.Lock()
	delete(r.m, c)
	r.mu.Unlock()
}

// Len is the number of registered connections.
func (r *Registry[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// Snapshot copies the registered connections, so a broadcast holds no lock while
// writing.
func (r *Registry[T]) Snapshot() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]T, 0, len(r.m))
	for c := range r.m {
		out = append(out, c)
	}
	return out
}
