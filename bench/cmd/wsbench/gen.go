package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// The generator ("wsbench gen") is one load process. The orchestrator starts as
// many as the open-file limit needs, drives them with commands on stdin (one word a
// line) and reads JSON events on stdout:
//
//	connect phase, then      {"ev":"ready","conns":N,"failed":F}
//	"go"    start the closed echo loop (or, in storm mode, the storm)
//	"mark"  zero the counters (end of warm-up)
//	"bcast" expect one broadcast message on every connection
//	"report" -> {"ev":"result",...}
//	"quit"  close everything and exit
//
// WebSocket connections run on one weir engine.Client with a Handler: no goroutine
// per connection. The raw TCP baseline has no framing for weir to parse, so it uses
// one goroutine per connection and sends the same bytes unframed.

const (
	modeIdle = iota
	modeEcho
	modeBcast
)

type genOpts struct {
	target  string // host:port
	raw     bool
	conns   int
	base    int // global index of this process's first connection (source address pick)
	nsrc    int // number of source addresses 127.0.0.2 ...
	size    int
	text    bool
	deflate bool
	storm   bool
	conc    int
	dur     time.Duration
}

type genState struct {
	o     genOpts
	start time.Time
	mode  atomic.Int32
	msgs  atomic.Uint64
	errs  atomic.Uint64
	h     hist
	msg   []byte
	op    frame.Opcode

	bcastGot  atomic.Int64
	bcastWant int64
	bcastLast atomic.Int64 // unix ns when the last connection got it
	bcastGen  atomic.Int64
}

// connState is one WebSocket connection's closed-loop state.
type connState struct {
	sent  atomic.Int64 // ns since g.start of the last send
	bcast atomic.Int64 // broadcast generation last seen
}

type genHandler struct {
	engine.NopHandler
	g *genState
}

func (h genHandler) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	g := h.g
	cs, _ := c.UserData().(*connState)
	if cs == nil {
		return
	}
	switch g.mode.Load() {
	case modeEcho:
		now := time.Since(g.start).Nanoseconds()
		g.h.add(now - cs.sent.Load())
		g.msgs.Add(1)
		cs.sent.Store(time.Since(g.start).Nanoseconds())
		if err := c.WriteMessage(g.op, g.msg); err != nil {
			g.errs.Add(1)
		}
	case modeBcast:
		g.gotBcast(&cs.bcast)
	}
}

func (g *genState) gotBcast(seen *atomic.Int64) {
	gen := g.bcastGen.Load()
	if seen.Swap(gen) == gen {
		return
	}
	if g.bcastGot.Add(1) == g.bcastWant {
		g.bcastLast.Store(time.Now().UnixNano())
	}
}

func srcAddr(i, nsrc int) net.IP {
	if nsrc <= 0 {
		return nil
	}
	return net.IPv4(127, 0, 0, byte(2+i%nsrc))
}

func runGen(args []string) {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	var o genOpts
	fs.StringVar(&o.target, "target", "", "server host:port")
	fs.BoolVar(&o.raw, "raw", false, "raw TCP (no WebSocket framing)")
	fs.IntVar(&o.conns, "conns", 100, "connections")
	fs.IntVar(&o.base, "base", 0, "global index of the first connection")
	fs.IntVar(&o.nsrc, "nsrc", 8, "source addresses 127.0.0.2 and up (0: kernel's pick)")
	fs.IntVar(&o.size, "size", 64, "message size")
	fs.BoolVar(&o.text, "text", false, "send JSON-like text instead of binary")
	fs.BoolVar(&o.deflate, "deflate", false, "offer permessage-deflate")
	fs.BoolVar(&o.storm, "storm", false, "connection storm: dial and close for -dur")
	fs.IntVar(&o.conc, "conc", 32, "dialling goroutines")
	fs.DurationVar(&o.dur, "dur", 2*time.Second, "storm duration")
	fs.Parse(args)

	g := &genState{o: o, start: time.Now()}
	g.op = frame.OpBinary
	g.msg = make([]byte, o.size)
	for i := range g.msg {
		g.msg[i] = byte('a' + i%26)
	}
	if o.text {
		g.op = frame.OpText
		g.msg = jsonLike(o.size)
	}
	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	emit := func(v map[string]any) {
		outMu.Lock()
		out.Encode(v)
		outMu.Unlock()
	}

	cfg := &engine.Config{PingInterval: -1, HandshakeTimeout: 20 * time.Second}
	cl, err := engine.NewClient(genHandler{g: g}, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	dopts := func(i int) *engine.DialOptions {
		d := &engine.DialOptions{Handler: genHandler{g: g}, NoProxy: true, HandshakeTimeout: 20 * time.Second}
		if ip := srcAddr(i, o.nsrc); ip != nil {
			// Not DialOptions.LocalAddr: weir's default dialer binds without
			// IP_BIND_ADDRESS_NO_PORT (see dialer.go).
			d.NetDialContext = dialFunc(ip)
		}
		if o.deflate {
			d.Compression = &deflate.Options{}
		}
		return d
	}
	url := "ws://" + o.target + "/"

	if o.storm {
		emit(map[string]any{"ev": "ready", "conns": 0, "failed": 0})
		waitCmd("go")
		n, fails := storm(cl, g, url, dopts)
		emit(map[string]any{"ev": "result", "handshakes": n, "errors": fails})
		waitCmd("quit")
		return
	}

	// Connect phase.
	var wsConns []*engine.Conn
	var rawConns []net.Conn
	var mu sync.Mutex
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	idx := make(chan int)
	stopProg := make(chan struct{})
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				emit(map[string]any{"ev": "progress", "conns": done.Load(), "failed": failed.Load()})
			case <-stopProg:
				return
			}
		}
	}()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				gi := o.base + i
				if o.raw {
					nc, err := newDialer(srcAddr(gi, o.nsrc)).Dial("tcp", o.target)
					if err != nil {
						failed.Add(1)
						continue
					}
					mu.Lock()
					rawConns = append(rawConns, nc)
					mu.Unlock()
				} else {
					c, _, err := cl.Dial(context.Background(), url, dopts(gi))
					if err != nil {
						failed.Add(1)
						if failed.Load() <= 3 {
							fmt.Fprintln(os.Stderr, "gen: dial:", err)
						}
						continue
					}
					c.SetUserData(&connState{})
					mu.Lock()
					wsConns = append(wsConns, c)
					mu.Unlock()
				}
				done.Add(1)
			}
		}()
	}
	for i := range o.conns {
		idx <- i
	}
	close(idx)
	wg.Wait()
	close(stopProg)
	g.bcastWant = int64(len(wsConns) + len(rawConns))
	emit(map[string]any{"ev": "ready", "conns": done.Load(), "failed": failed.Load()})

	for _, nc := range rawConns {
		go rawLoop(g, nc)
	}

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "go":
			g.mode.Store(modeEcho)
			for _, nc := range rawConns {
				nc.SetReadDeadline(time.Now())
			}
			now := time.Since(g.start).Nanoseconds()
			for _, c := range wsConns {
				c.UserData().(*connState).sent.Store(now)
				if err := c.WriteMessage(g.op, g.msg); err != nil {
					g.errs.Add(1)
				}
			}
		case "mark":
			g.msgs.Store(0)
			g.errs.Store(0)
			g.h.snapshot()
			emit(map[string]any{"ev": "marked"})
		case "bcast":
			g.bcastGot.Store(0)
			g.bcastLast.Store(0)
			g.bcastGen.Add(1)
			g.mode.Store(modeBcast)
			emit(map[string]any{"ev": "armed"})
		case "report":
			emit(map[string]any{"ev": "result", "msgs": g.msgs.Load(), "errors": g.errs.Load(),
				"hist": g.h.snapshot(), "bcast_got": g.bcastGot.Load(), "bcast_last": g.bcastLast.Load(),
				"open": cl.NumConns() + len(rawConns)})
		case "stop":
			g.mode.Store(modeIdle)
		case "quit":
			g.mode.Store(modeIdle)
			for _, nc := range rawConns {
				nc.Close()
			}
			cl.Close()
			return
		}
	}
}

func waitCmd(want string) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == want {
			return
		}
	}
}

// rawLoop is the raw TCP baseline's connection: in echo mode it writes the message
// and reads the same number of bytes back; in broadcast mode it reads the bytes.
func rawLoop(g *genState, nc net.Conn) {
	buf := make([]byte, max(len(g.msg), 4096))
	var seen atomic.Int64
	for {
		n, err := nc.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// "go" sets a past deadline to wake this read.
			nc.SetReadDeadline(time.Time{})
			break
		}
		if err != nil {
			return
		}
		if n > 0 && g.mode.Load() == modeBcast {
			g.gotBcast(&seen)
		}
	}
	for g.mode.Load() == modeEcho {
		t0 := time.Now()
		if _, err := nc.Write(g.msg); err != nil {
			g.errs.Add(1)
			return
		}
		if _, err := io.ReadFull(nc, buf[:len(g.msg)]); err != nil {
			g.errs.Add(1)
			return
		}
		g.h.add(time.Since(t0).Nanoseconds())
		g.msgs.Add(1)
	}
}

// storm dials and closes connections for o.dur from o.conc goroutines.
func storm(cl *engine.Client, g *genState, url string, dopts func(int) *engine.DialOptions) (n, fails int64) {
	o := g.o
	var cnt, errs, seq atomic.Int64
	deadline := time.Now().Add(o.dur)
	var wg sync.WaitGroup
	for range o.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := int(seq.Add(1)) + o.base*1_000_003
				if o.raw {
					nc, err := newDialer(srcAddr(i, o.nsrc)).Dial("tcp", o.target)
					if err != nil {
						errs.Add(1)
						continue
					}
					nc.Close()
				} else {
					c, _, err := cl.Dial(context.Background(), url, dopts(i))
					if err != nil {
						if errs.Add(1) <= 3 {
							fmt.Fprintln(os.Stderr, "gen: storm dial:", err)
						}
						continue
					}
					c.Abort()
				}
				cnt.Add(1)
			}
		}()
	}
	wg.Wait()
	return cnt.Load(), errs.Load()
}

// jsonLike returns n bytes of JSON-ish text (records with varying numbers and
// repeated keys), compressible the way real API traffic is.
func jsonLike(n int) []byte {
	var b []byte
	b = append(b, '[')
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"id":%d,"user":"user-%d","price":%d.%02d,"tags":["alpha","beta"],"ok":%t},`,
			1000+i*7919%9973, i*31%97, i*13%500, i*17%100, i%3 == 0)
	}
	b = b[:n]
	b[n-1] = ']'
	return b
}
