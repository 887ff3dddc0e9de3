// Command attacktarget is the server the interop attack tests measure: a weir
// echo server (and, with -broadcast-every, a broadcaster) in a process of its
// own, so that its RSS, heap and fds are its own and not the attacker's.
//
// It prints one line, "ready WS MEM", with the WebSocket address and the
// address of a plain HTTP endpoint: GET /mem answers with the process's memory
// (after a GC), goroutines, open fds and the server's totals, as JSON.
package main

import (
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
	"strings"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// Mem is what GET /mem reports.
type Mem struct {
	RSS        int64 // bytes, VmRSS from /proc/self/status
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
	mode := flag.String("mode", "pool", "pool, inline or goroutine")
	compress := flag.Bool("compress", false, "permessage-deflate")
	bsize := flag.Int("broadcast-size", 4096, "broadcast message size")
	bevery := flag.Duration("broadcast-every", 0, "broadcast period (0: none)")
	keepalive := flag.Duration("ping", -1, "Config.PingInterval (-1: off)")
	pongTimeout := flag.Duration("pong-timeout", 0, "Config.PongTimeout")
	maxWrite := flag.Int("max-write-buffer", 0, "Config.MaxWriteBuffer")
	policy := flag.String("policy", "error", "WriteBufferPolicy: error, drop or close")
	budget := flag.Int64("max-total-buffered", 0, "Config.MaxTotalBuffered")
	flag.Parse()

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
	h := &echo{}
	srv, err := engine.NewServer(h, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	var broadcasts atomic.Int64
	if *bevery > 0 {
		pm := engine.NewPreparedMessage(frame.OpBinary, make([]byte, *bsize))
		go func() {
			for range time.Tick(*bevery) {
				srv.Broadcast(pm, nil)
				broadcasts.Add(1)
			}
		}()
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/mem", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		m := srv.Metrics()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(Mem{
			RSS: rss(), HeapInuse: int64(ms.HeapInuse), HeapAlloc: int64(ms.HeapAlloc),
			HeapSys: int64(ms.HeapSys), HeapIdle: int64(ms.HeapIdle), Released: int64(ms.HeapReleased),
			StackInuse: int64(ms.StackInuse), Sys: int64(ms.Sys),
			Goroutines: runtime.NumGoroutine(), FDs: fds(), Conns: srv.NumConns(),
			Stats: srv.Stats(), Echoed: h.echoed.Load(), Refused: h.refused.Load(),
			Broadcasts:    broadcasts.Load(),
			WritesRefused: m.WritesRefused, WritesDropped: m.WritesDropped, WritesClosed: m.WritesClosed,
			Budget: srv.BufferedAmount(),
		})
	})
	fmt.Printf("ready %s %s\n", srv.Addr(), mln.Addr())
	log.Fatal(http.Serve(mln, nil))
}

func rss() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func fds() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}
