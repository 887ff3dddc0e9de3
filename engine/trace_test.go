package engine

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// traceLog records what a Trace sees, as "in"/"out" lines per frame.
type traceLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *traceLog) trace() *Trace {
	rec := func(dir string) func(*Conn, frame.Header) {
		return func(_ *Conn, h frame.Header) {
			l.mu.Lock()
			l.lines = append(l.lines, fmt.Sprintf("%s %v fin=%v rsv=%d masked=%v len=%d", dir, h.Opcode, h.Fin, h.Rsv, h.Masked, h.Length))
			l.mu.Unlock()
		}
	}
	return &Trace{FrameIn: rec("in"), FrameOut: rec("out")}
}

func (l *traceLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// Config.Trace sees every frame each way, control frames included, with the
// header as on the wire: the server's echo of a fragmented message is one frame,
// a client's frames are masked.
func TestTrace(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1 // no keepalive frames in the log
		var srvLog, cliLog traceLog
		scfg := cfg
		scfg.Trace = srvLog.trace()
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, scfg, nil)
		ccfg := cfg
		ccfg.Trace = cliLog.trace()
		c := cliDial(t, cliClient(t, nil, ccfg), "ws://"+addr+"/", nil)
		cliRecv(t, srv.opened, "server OnOpen")
		if err := c.WriteText("hi"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(cliCtx(t)); err != nil {
			t.Fatal(err)
		}
		c.WriteFrame(false, frame.OpBinary, 0, []byte("abc"))
		c.WriteFrame(true, frame.OpContinuation, 0, []byte("de"))
		if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "abcde" {
			t.Fatalf("echo %q %v", p, err)
		}
		cliCloseRead(t, c)
		cliRecv(t, srv.closed, "server OnClose")
		wantSrv := []string{
			"in text fin=true rsv=0 masked=true len=2",
			"out text fin=true rsv=0 masked=false len=2",
			"in binary fin=false rsv=0 masked=true len=3",
			"in continuation fin=true rsv=0 masked=true len=2",
			"out binary fin=true rsv=0 masked=false len=5",
			"in close fin=true rsv=0 masked=true len=6", // cliCloseRead: a code and a reason
			"out close fin=true rsv=0 masked=false len=2",
		}
		wantCli := []string{
			"out text fin=true rsv=0 masked=true len=2",
			"in text fin=true rsv=0 masked=false len=2",
			"out binary fin=false rsv=0 masked=true len=3",
			"out continuation fin=true rsv=0 masked=true len=2",
			"in binary fin=true rsv=0 masked=false len=5",
			"out close fin=true rsv=0 masked=true len=6",
			"in close fin=true rsv=0 masked=false len=2",
		}
		if got := srvLog.get(); !slices.Equal(got, wantSrv) {
			t.Errorf("server trace:\n%q\nwant\n%q", got, wantSrv)
		}
		if got := cliLog.get(); !slices.Equal(got, wantCli) {
			t.Errorf("client trace:\n%q\nwant\n%q", got, wantCli)
		}
	})
}

// A prepared message (Broadcast's frame, built once) is traced like any other.
func TestTracePrepared(t *testing.T) {
	t.Parallel()
	var srvLog traceLog
	cfg := Config{PingInterval: -1, Trace: srvLog.trace()}
	srv := newCliPeer(false)
	s, addr := startServer(t, srv, cfg, nil)
	c := cliDial(t, cliClient(t, nil, Config{PingInterval: -1}), "ws://"+addr+"/", nil)
	cliRecv(t, srv.opened, "server OnOpen")
	if n := s.Broadcast(NewPreparedMessage(frame.OpText, []byte("to all")), nil); n != 1 {
		t.Fatalf("Broadcast reached %d", n)
	}
	if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "to all" {
		t.Fatalf("%q %v", p, err)
	}
	if got, want := srvLog.get(), []string{"out text fin=true rsv=0 masked=false len=6"}; !slices.Equal(got, want) {
		t.Fatalf("trace %q, want %q", got, want)
	}
}
