package main

// Results is what one "wsbench run" measured; "wsbench report" turns it into
// docs/benchmarks.md and the charts. Every figure in the report comes from here.
type Results struct {
	Started  string            `json:"started"`
	Seconds  float64           `json:"seconds"`
	Command  string            `json:"command"`
	Quick    bool              `json:"quick"`
	Machine  Machine           `json:"machine"`
	Versions map[string]string `json:"versions"`
	Settings map[string]any    `json:"settings"`
	Echo     []EchoRow         `json:"echo"`
	Idle     []IdleRow         `json:"idle"`
	Bcast    []BcastRow        `json:"broadcast"`
	Storm    []StormRow        `json:"storm"`
	Failures []string          `json:"failures"`
}

// Machine describes where the run happened.
type Machine struct {
	NProc  int    `json:"nproc"`
	Model  string `json:"model"`
	Kernel string `json:"kernel"`
	MemGiB int64  `json:"mem_gib"`
	NoFile uint64 `json:"nofile"`
}

// EchoRow is one closed-loop echo cell.
type EchoRow struct {
	Server     string  `json:"server"`
	Conns      int     `json:"conns"`
	Size       int     `json:"size"`
	Deflate    bool    `json:"deflate"`
	Msgs       uint64  `json:"msgs"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	P999us     float64 `json:"p999_us"`
	CPUSeconds float64 `json:"server_cpu_s"`
	CPUPerMsg  float64 `json:"server_cpu_us_per_msg"`
	Errors     uint64  `json:"errors"`
	// RoundsCPU holds each round's CPU/msg when the cell ran more than once (the
	// other figures are then medians over the rounds, errors a sum).
	RoundsCPU []float64 `json:"rounds_cpu_us_per_msg,omitempty"`
}

// IdleRow is the idle-cost measurement of one server.
type IdleRow struct {
	Server          string  `json:"server"`
	Deflate         bool    `json:"deflate"`
	Conns           int     `json:"conns"`
	RSSPerConnKiB   float64 `json:"rss_per_conn_kib"`
	HeapPerConnKiB  float64 `json:"heap_per_conn_kib"` // -1: not a Go server
	Goroutines      int64   `json:"goroutines"`
	Threads         int64   `json:"threads"`
	KernelTCPPerKiB float64 `json:"kernel_tcp_mem_per_conn_kib"`
	SlabPerConnKiB  float64 `json:"slab_per_conn_kib"`
	// TLS: a wss run; TLSLoop and TLSGoroutine are weir's counters of the
	// connections that ran on the loops and in goroutine mode.
	TLS          bool   `json:"tls,omitempty"`
	TLSLoop      uint64 `json:"tls_loop,omitempty"`
	TLSGoroutine uint64 `json:"tls_goroutine,omitempty"`
	// TLSFailed and TLSBusy are weir's counters of handshakes that failed
	// and of connections closed unanswered after waiting for a slot.
	TLSFailed uint64 `json:"tls_failed,omitempty"`
	TLSBusy   uint64 `json:"tls_busy,omitempty"`
	// RSSFreedPerConnKiB is the RSS growth once more, after the server's
	// debug.FreeOSMemory (/free): without what the runtime had not yet
	// returned to the OS (Go servers; -1: not measured).
	RSSFreedPerConnKiB float64 `json:"rss_freed_per_conn_kib,omitempty"`
	// RSSBeforeGCPerConnKiB is the RSS growth read just before the /stats
	// call that runs the collector (RSSPerConnKiB is read 0.5 s after it): a
	// Go server's RSS as the connect phase left it.
	RSSBeforeGCPerConnKiB float64 `json:"rss_before_gc_per_conn_kib,omitempty"`
	// RSSHeld is the RSS growth read every 10 s while the connections stay
	// idle for run -idle-hold after the readings above, before /free.
	RSSHeld []HeldRSS `json:"rss_held,omitempty"`
	// ConnectSeconds is how long the connect phase took (the storm, for
	// wss: its handshakes per second are Conns / ConnectSeconds).
	ConnectSeconds float64 `json:"connect_s,omitempty"`
	// GC is the Go server's collector as the connect phase left it (idlegc.go).
	GC *IdleGC `json:"gc,omitempty"`
}

// HeldRSS is one reading of an idle run's RSS growth, Seconds after the
// first readings.
type HeldRSS struct {
	Seconds    float64 `json:"s"`
	PerConnKiB float64 `json:"per_conn_kib"`
}

// BcastRow is one broadcast measurement (median of the repeats).
type BcastRow struct {
	Server string    `json:"server"`
	Conns  int       `json:"conns"`
	Size   int       `json:"size"`
	Millis float64   `json:"ms"`
	Reps   []float64 `json:"reps_ms"`
	Got    int64     `json:"got"`
}

// StormRow is one connection-storm measurement.
type StormRow struct {
	Server     string  `json:"server"`
	Handshakes int64   `json:"handshakes"`
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"per_sec"`
	CPUPerHSus float64 `json:"server_cpu_us_per_handshake"`
	Errors     int64   `json:"errors"`
	// RoundsPerSec holds each round's handshakes/s when the storm ran more
	// than once (the other figures are then medians, errors a sum).
	RoundsPerSec []float64 `json:"rounds_per_sec,omitempty"`
}
