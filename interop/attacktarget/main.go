// Command attacktarget is the server the interop attack tests measure: a weir
// echo server (and, with -broadcast-every, a broadcaster) in a process of its
// own, so that its RSS, heap and fds are its own and not the attacker's.
//
// It prints one line, "ready WS MEM", with the WebSocket address and the
// address of a plain HTTP endpoint: GET /mem answers with the process's memory
// (after a GC), goroutines, open fds and the server's totals, as JSON; with
// -broadcast-wait, GET /start starts the broadcast (so that a test can measure
// the server with its connections open before it begins) and GET /stop pauses
// it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/pagepool"
)

// Mem is what GET /mem reports.
type Mem struct {
	RSS        int64 // bytes, VmRSS from /proc/self/status, after a GC
	HeapInuse  int64 // bytes, after a GC
	HeapAlloc  int64
	HeapSys    int64 // bytes the heap holds from the OS (in use, idle, released)
	HeapIdle   int64
	Released   int64 // HeapReleased: idle heap returned to the OS
	StackInuse int64
	Sys        int64
	Goroutines int
	FDs        int
	Conns      int
	Stats      engine.EngineStats
	Echoed     int64
	Refused    int64 // writes the policy refused (any error)
	Broadcasts int64
	// Writes the WriteBufferPolicy met (Metrics), broadcasts included.
	WritesRefused, WritesDropped, WritesClosed uint64
	Budget                                     int64 // Server.BufferedAmount: what MaxTotalBuffered bounds
	// The outbound pool (internal/pagepool): buffers handed out, free ones
	// kept resident, address space mapped.
	PoolInUse, PoolWarm, PoolPeak, PoolMapped int64
	PoolWarmSmall                             int64 // of PoolWarm, below a page
	// From /proc/self/status: anonymous and file-backed resident memory.
	RssAnon, RssFile int64
	// Runtime: memory the Go runtime holds from the OS and has not released
	// (Sys - HeapReleased), and the GC's goal.
	RuntimeHeld, NextGC int64
	// Parts of RuntimeHeld besides the heap in use and stacks: heap spans
	// free but not yet returned, the collector's metadata, span structures,
	// the rest; and the process's OS threads.
	HeapIdleHeld, GCSys, MSpanSys, OtherSys int64
	Threads                                 int64
}

type echo struct {
	engine.NopHandler
	echoed, refused atomic.Int64
}

func (h *echo) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	if err := c.WriteMessage(op, p); err != nil {
		h.refused.Add(1)
		return
	}
	h.echoed.Add(1)
}

func main() {
	mode := flag.String("mode", "pool", "pool, inline, goroutine, or gorilla (gorilla/websocket, for comparison)")
	compress := flag.Bool("compress", false, "permessage-deflate")
	bsize := flag.Int("broadcast-size", 4096, "broadcast message size")
	bevery := flag.Duration("broadcast-every", 0, "broadcast period (0: none)")
	keepalive := flag.Duration("ping", -1, "Config.PingInterval (-1: off)")
	pongTimeout := flag.Duration("pong-timeout", 0, "Config.PongTimeout")
	maxWrite := flag.Int("max-write-buffer", 0, "Config.MaxWriteBuffer")
	policy := flag.String("policy", "error", "WriteBufferPolicy: error, drop or close")
	budget := flag.Int64("max-total-buffered", 0, "Config.MaxTotalBuffered")
	bwait := flag.Bool("broadcast-wait", false, "start broadcasting at the first GET /start, not at once")
	flag.Parse()
	if r, err := strconv.Atoi(os.Getenv("ATTACK_MEMPROFILERATE")); err == nil {
		runtime.MemProfileRate = r // every allocation, for a heap diff (ATTACK_PPROF_DIR)
	}

	cfg := &engine.Config{
		PingInterval:     *keepalive,
		PongTimeout:      *pongTimeout,
		MaxWriteBuffer:   *maxWrite,
		MaxTotalBuffered: *budget,
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	switch *mode {
	case "inline":
		cfg.Dispatch = engine.DispatchInline
	case "goroutine":
		cfg.GoroutinePerConn = true
	}
	switch *policy {
	case "drop":
		cfg.WriteBufferPolicy = engine.WriteBufferDrop
	case "close":
		cfg.WriteBufferPolicy = engine.WriteBufferClose
	}
	if *compress {
		cfg.Compression = &deflate.Options{}
	}
	if *mode == "gorilla" {
		mln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		serveGorilla(mln)
	}
	h := &echo{}
	srv, err := engine.NewServer(h, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	var broadcasts atomic.Int64
	var on atomic.Bool
	http.HandleFunc("/start", func(http.ResponseWriter, *http.Request) { on.Store(true) })
	http.HandleFunc("/stop", func(http.ResponseWriter, *http.Request) { on.Store(false) })
	on.Store(!*bwait)
	if *bevery > 0 {
		pm := engine.NewPreparedMessage(frame.OpBinary, make([]byte, *bsize))
		go func() {
			for range time.Tick(*bevery) {
				if on.Load() {
					srv.Broadcast(pm, nil)
					broadcasts.Add(1)
				}
			}
		}()
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/mem", func(w http.ResponseWriter, _ *http.Request) {
		m, ps := srv.Metrics(), pagepool.Default.Stats()
		writeMem(w, srv, Mem{
			Conns: srv.NumConns(), Echoed: h.echoed.Load(), Refused: h.refused.Load(),
			Broadcasts:    broadcasts.Load(),
			WritesRefused: m.WritesRefused, WritesDropped: m.WritesDropped, WritesClosed: m.WritesClosed,
			Budget:    srv.BufferedAmount(),
			PoolInUse: ps.InUse, PoolWarm: ps.Warm, PoolPeak: ps.Peak, PoolMapped: ps.Mapped, PoolWarmSmall: ps.WarmSmall,
		})
	})
	fmt.Printf("ready %s %s\n", srv.Addr(), mln.Addr())
	log.Fatal(http.Serve(mln, nil))
}

// writeMem completes m with the process's figures and sends it. The memory
// figures are read without allocating (fds and /proc/self/status into kept
// buffers), and what allocates (Server.Stats: a list of every connection; the
// JSON) comes after them, so that they are the server's and not this
// handler's.
func writeMem(w http.ResponseWriter, srv *engine.Server, m Mem) {
	memMu.Lock()
	defer memMu.Unlock()
	m.FDs = fds()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.RSS, m.RssAnon, m.RssFile = status("VmRSS:"), status("RssAnon:"), status("RssFile:")
	m.Threads = status("Threads:")
	if srv != nil {
		m.Stats = srv.Stats()
	}
	m.HeapInuse, m.HeapAlloc, m.HeapSys = int64(ms.HeapInuse), int64(ms.HeapAlloc), int64(ms.HeapSys)
	m.HeapIdle, m.Released = int64(ms.HeapIdle), int64(ms.HeapReleased)
	m.StackInuse, m.Sys = int64(ms.StackInuse), int64(ms.Sys)
	m.RuntimeHeld, m.NextGC = int64(ms.Sys-ms.HeapReleased), int64(ms.NextGC)
	m.HeapIdleHeld, m.GCSys = int64(ms.HeapIdle-ms.HeapReleased), int64(ms.GCSys)
	m.MSpanSys, m.OtherSys = int64(ms.MSpanSys), int64(ms.OtherSys)
	m.Goroutines = runtime.NumGoroutine()
	json.NewEncoder(w).Encode(m)
}

// memMu serializes /mem (the kept buffers below).
var memMu sync.Mutex

var statusBuf = make([]byte, 8<<10)

// status is a field of /proc/self/status ("VmRSS:"): a "kB" one in bytes, a
// count (Threads) as it is. It reads into a kept buffer and allocates nothing.
func status(field string) int64 {
	fd, err := syscall.Open("/proc/self/status", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	n, _ := syscall.Read(fd, statusBuf)
	syscall.Close(fd)
	b := statusBuf[:max(n, 0)]
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		rest, ok := bytes.CutPrefix(line, []byte(field))
		if !ok {
			continue
		}
		rest = bytes.TrimLeft(rest, " \t")
		var v int64
		for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
			v = v*10 + int64(rest[0]-'0')
			rest = rest[1:]
		}
		if bytes.HasSuffix(rest, []byte("kB")) {
			v <<= 10
		}
		return v
	}
	return 0
}

var dents = make([]byte, 64<<10)

// fds counts the open fds from /proc/self/fd's entries, read into a buffer
// kept for it (os.ReadDir allocates per entry: thousands under attack, heap
// growth that would be the measurement's, not the server's). Less "." and
// "..", and the fd reading them.
func fds() int {
	d, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	defer syscall.Close(d)
	n := 0
	for {
		got, err := syscall.Getdents(d, dents)
		if err != nil || got <= 0 {
			break
		}
		// linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
		for off := 0; off+18 < got; {
			reclen := int(dents[off+16]) | int(dents[off+17])<<8
			if reclen == 0 {
				break
			}
			n++
			off += reclen
		}
	}
	return n - 3
}
