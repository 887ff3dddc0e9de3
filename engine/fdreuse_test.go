package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// TestFDReuseNoCrossTalk: one connection's end never reaches another that
// got its fd number. Each round opens a victim, hammers it from many
// goroutines with every method (writes of every kind, pings, PingRTT,
// pause and resume, compression switch, addresses, TLS state, stats,
// closes) and with WritePreparedMany and Broadcast over it (the io_uring
// batches capture fd numbers), ends it one way (the peer's reset or FIN,
// CloseNow, Abort, Close, or Close of the victims' Server: the bystanders
// have a Server of their own), and opens bystanders while the hammers go on;
// a goroutine keeps calling the methods of every victim ended so far until
// the test ends. The kernel hands the victims' fd numbers to bystanders
// (counted on the loops). Each bystander's raw peer checks every byte: only
// its own messages in order, the echoes of its own, no ping, nothing after
// or instead; it is never closed, paused or cut, and gets every message its
// writer wrote. Every OnClose runs exactly once, every WriteMessageFunc
// callback once. Plain and wss, permessage-deflate on every other
// connection, in every mode; and with victims that are a Client's
// connections (ws), ended by the server's side (Abort, CloseNow), by their
// own methods and by the Client's Close.
func TestFDReuseNoCrossTalk(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name        string
		wss, client bool
	}{{"ws", false, false}, {"wss", true, false}, {"client", false, true}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) { testFDReuse(t, cfg, v.wss, v.client) })
		})
	}
}

var reuseEnds = []string{"peer reset", "peer FIN", "CloseNow", "Abort", "Close", "Server.Close"}

func testFDReuse(t *testing.T, cfg Config, wss, client bool) {
	rounds := 2 * len(reuseEnds)
	if wss || cfg.Dispatch == DispatchInline { // the slowest under -race
		rounds = len(reuseEnds)
	}
	cfg.MaxWriteBuffer = 64 << 20 // a bystander's writes are never refused
	cfg.PingInterval = -1         // no ping but the victims' own
	cfg.CloseTimeout = 2 * time.Second
	cfg.Compression = &deflate.Options{Threshold: 32}
	h := &reuseHandler{opened: make(chan *Conn, 4), closes: map[*Conn]int{}}
	start := func() (*Server, string) {
		if wss {
			return startTLS(t, h, cfg)
		}
		return startServer(t, h, cfg, nil)
	}
	s, addr := start() // the bystanders'
	// The victims' server, another one after each Server.Close: the
	// handler is the same, the fd numbers the process's.
	var vsrv atomic.Pointer[Server]
	var vaddr string
	newVictimServer := func() {
		vs, a := start()
		vsrv.Store(vs)
		vaddr = a
	}
	newVictimServer()
	// The Client whose connections are the victims (client), another one
	// after each Client.Close.
	var cl *Client
	if client {
		cl = cliClient(t, h, cfg)
	}
	// dial connects a raw peer and returns it with the server's Conn. With
	// a reserved socket (plain, on the loops) the server accepts before this
	// side takes a number: it gets the lowest free one.
	dial := func(what string, srv *Server, addr string, deflate bool, r *reservedSocket) (*rawClient, string, *Conn) {
		var ext []string
		if deflate {
			ext = append(ext, "Sec-WebSocket-Extensions: permessage-deflate")
		}
		var nc net.Conn
		var err error
		if r != nil {
			before := srv.NumConns()
			if err = r.connect(addr); err == nil {
				reuseWait(t, "the accept of "+what, func() bool { return srv.NumConns() > before })
				nc, err = r.wrap()
			}
		} else if wss {
			nc, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, clientTLS(t))
		} else {
			nc, err = net.DialTimeout("tcp", addr, 5*time.Second)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n"
		for _, e := range ext {
			req += e + "\r\n"
		}
		if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("%s (%s): handshake: %v %v", what, nc.LocalAddr(), resp, err)
		}
		rc := &rawClient{t: t, nc: nc, br: br}
		rc.nc.SetDeadline(time.Time{})
		select {
		case c := <-h.opened:
			return rc, resp.Header.Get("Sec-WebSocket-Extensions"), c
		case <-time.After(10 * time.Second):
			t.Fatal("no OnOpen")
		}
		return nil, "", nil
	}

	var (
		vmu       sync.Mutex
		victims   []*Conn
		victimFDs = map[int]bool{}
	)
	allVictims := func() []*Conn {
		vmu.Lock()
		defer vmu.Unlock()
		return append([]*Conn(nil), victims...)
	}
	isVictim := func(c *Conn) bool {
		vmu.Lock()
		defer vmu.Unlock()
		for _, v := range victims {
			if v == c {
				return true
			}
		}
		return false
	}
	var doneCalls, doneWant atomic.Int64
	pm := NewPreparedMessage(frame.OpBinary, []byte("VICTIM prepared"))
	hit := func(c *Conn, k int) { // one call of every kind, by k
		switch k % 16 {
		case 0:
			c.WriteMessage(frame.OpBinary, []byte("VICTIM message "+strings.Repeat("v", k%3000)))
		case 1:
			c.WriteText("VICTIM text")
		case 2:
			if c.WriteMessageFunc(frame.OpBinary, []byte("VICTIM func"), func(error) { doneCalls.Add(1) }) == nil {
				doneWant.Add(1)
			}
		case 3:
			if c.WriteFrame(false, frame.OpBinary, 0, []byte("VICTIM frag")) == nil {
				c.WriteFrame(true, frame.OpContinuation, 0, []byte("VICTIM end"))
			}
		case 4:
			c.WritePrepared(pm)
		case 5:
			c.Ping([]byte("VICTIM ping"))
			c.Pong([]byte("VICTIM pong"))
		case 6:
			c.PauseRead()
		case 7:
			c.ResumeRead()
		case 8:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			c.PingRTT(ctx)
			cancel()
		case 9:
			c.EnableWriteCompression(k%2 == 0)
		case 10:
			c.LocalAddr()
			c.TLSConnectionState()
			c.Stats()
			c.BufferedAmount()
			c.CloseStatus()
		case 11:
			WritePreparedMany(append(allVictims(), c, c), pm)
		case 12:
			s.Broadcast(pm, isVictim) // the bystanders' server: none is
			vsrv.Load().Broadcast(pm, nil)
		case 13:
			c.Close(frame.StatusNormalClosure, "VICTIM")
		case 14:
			c.CloseNow(frame.StatusGoingAway, "VICTIM")
		default:
			c.Abort()
		}
	}
	stopAll := make(chan struct{})
	var stale sync.WaitGroup
	stale.Go(func() { // every victim ended so far, until the end
		for k := 0; ; k++ {
			select {
			case <-stopAll:
				return
			default:
			}
			vs := allVictims()
			for i, v := range vs {
				if h.closed(v) > 0 && (k+i)%16 < 13 { // no closes: they end it again, for nothing
					hit(v, k+i)
				}
			}
			time.Sleep(time.Millisecond)
		}
	})

	var bys []*bystander
	reused := 0
	for round := range rounds {
		end := reuseEnds[round%len(reuseEnds)]
		var vrc *rawClient
		var v, vpeer *Conn // vpeer: a client victim's server side
		if client {
			o := &DialOptions{}
			if round%2 == 0 {
				o.Compression = &deflate.Options{Threshold: 32}
			}
			var err error
			if v, _, err = cl.Dial(cliCtx(t), "ws://"+vaddr+"/ws", o); err != nil {
				t.Fatalf("victim %d: %v", round, err)
			}
			for range 2 { // both sides' OnOpen, in either order
				if c := cliRecv(t, h.opened, "OnOpen"); c != v {
					vpeer = c
				}
			}
		} else {
			vrc, _, v = dial(fmt.Sprintf("victim %d", round), vsrv.Load(), vaddr, round%2 == 0, nil)
		}
		go func() { // the victim's peer reads what comes, to its end, and answers a close
			if vrc == nil {
				return // the server's side echoes
			}
			for {
				h, _, err := vrc.readFrame()
				if err != nil {
					return
				}
				if h.Opcode == frame.OpClose {
					vrc.nc.Write(frameBytes(true, frame.OpClose, 0, nil, true))
				}
			}
		}()
		vmu.Lock()
		victims = append(victims, v)
		if fd := v.c.FD.Num(); fd >= 0 {
			victimFDs[fd] = true
		}
		vmu.Unlock()
		stop := make(chan struct{})
		var hammers sync.WaitGroup
		for g := range 4 {
			hammers.Go(func() {
				for k := g; ; k += 4 {
					select {
					case <-stop:
						return
					default:
					}
					if k%16 < 13 || h.closed(v) > 0 { // closes only once it ended some other way
						hit(v, k)
					}
					time.Sleep(200 * time.Microsecond) // under -race on two cores, as busy as the loops can bear
				}
			})
		}
		var reserved [2]*reservedSocket
		if !wss && !cfg.GoroutinePerConn {
			for i := range reserved {
				if r, ok := reserveSocket(); ok {
					reserved[i] = r
					t.Cleanup(r.close)
				}
			}
		}
		reuseWait(t, "the victim's hammers wrote", func() bool { return v.Stats().MessagesOut > 10 })
		switch {
		case client && end == "peer reset":
			vpeer.Abort()
		case client && end == "peer FIN":
			vpeer.CloseNow(frame.StatusGoingAway, "")
		case client && end == "Server.Close":
			cl.Close()
			cl = cliClient(t, h, cfg)
		}
		switch end {
		case "peer reset":
			if client {
				break
			}
			nc := vrc.nc
			if tc, ok := nc.(*tls.Conn); ok {
				nc = tc.NetConn()
			}
			nc.(*net.TCPConn).SetLinger(0)
			vrc.nc.Close()
		case "peer FIN":
			if client {
				break
			}
			if cw, ok := vrc.nc.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
		case "CloseNow":
			v.CloseNow(frame.StatusGoingAway, "")
		case "Abort":
			v.Abort()
		case "Close":
			v.Close(frame.StatusNormalClosure, "")
		case "Server.Close":
			if !client {
				vsrv.Load().Close()
			}
		}
		reuseWait(t, "the victim's OnClose ("+end+")", func() bool { return h.closed(v) > 0 })
		// Bystanders while the hammers go on: the kernel gives them freed numbers.
		for b := range 2 {
			rc, ext, c := dial(fmt.Sprintf("bystander %d", len(bys)), s, addr, (round+b)%2 == 1, reserved[b])
			if fd := c.c.FD.Num(); fd >= 0 {
				vmu.Lock()
				if victimFDs[fd] {
					reused++
				}
				vmu.Unlock()
			}
			by := newBystander(t, len(bys), rc, ext, c)
			bys = append(bys, by)
			by.start()
		}
		for _, by := range bys[len(bys)-2:] {
			reuseWait(t, "a bystander's traffic", func() bool { return by.got.Load() > 20 && by.echoes.Load() > 3 })
		}
		close(stop)
		hammers.Wait()
		if vrc != nil {
			vrc.nc.Close()
		}
		if end == "Server.Close" {
			newVictimServer()
		}
	}
	close(stopAll)
	stale.Wait()
	for _, by := range bys {
		by.end(t)
	}
	for _, by := range bys {
		by.check(t, h)
	}
	for i, v := range allVictims() {
		if n := h.closed(v); n != 1 {
			t.Errorf("victim %d: OnClose ran %d times", i, n)
		}
	}
	reuseWait(t, "every WriteMessageFunc callback", func() bool { return doneCalls.Load() >= doneWant.Load() })
	time.Sleep(10 * time.Millisecond) // one more would be a second call of some callback
	if doneCalls.Load() != doneWant.Load() {
		t.Errorf("%d WriteMessageFunc callbacks for %d writes", doneCalls.Load(), doneWant.Load())
	}
	if !cfg.GoroutinePerConn {
		t.Logf("%d of %d bystanders got a victim's fd number", reused, len(bys))
	}
}
