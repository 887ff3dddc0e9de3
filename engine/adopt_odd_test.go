package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestAdoptOddCloses: the caller's net.Conn closed before Adopt, during it or
// after it, and one net.Conn adopted twice. On the loops Adopt takes a
// duplicate of the fd and closes the net.Conn itself, so a close after it
// changes nothing; a closed net.Conn gives a Conn that ends at once. Every
// Conn Adopt returns gets OnClose exactly once, nothing panics, and a
// bystander served by the same Server all along echoes byte for byte.
func TestAdoptOddCloses(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"before", "during", "after", "twice"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) { testAdoptOdd(t, cfg, how) })
		})
	}
}

func testAdoptOdd(t *testing.T, cfg Config, how string) {
	cfg.PingInterval = -1
	h := &reuseHandler{opened: make(chan *Conn, 8), closes: map[*Conn]int{}}
	s, addr := startServer(t, h, cfg, nil)
	by := dialRaw(t, addr)
	<-h.opened
	echo := func(rc *rawClient, k int) error {
		msg := fmt.Appendf(nil, "echo %d %s", k, how)
		if _, err := rc.nc.Write(frameBytes(true, frame.OpText, 0, msg, true)); err != nil {
			return err
		}
		_, p, err := rc.readFrame()
		if err == nil && string(p) != string(msg) {
			err = fmt.Errorf("echo %q, want %q", p, msg)
		}
		return err
	}
	if err := echo(by, 0); err != nil {
		t.Fatal(err)
	}
	nc, rc := tcpPairRaw(t)
	var adopted []*Conn
	switch how {
	case "before":
		nc.Close()
		adopted = append(adopted, s.Adopt(nc, nil, nil))
	case "during":
		done := make(chan struct{})
		go func() { nc.Close(); close(done) }()
		adopted = append(adopted, s.Adopt(nc, nil, nil))
		<-done
	case "after":
		adopted = append(adopted, s.Adopt(nc, nil, nil))
		nc.Close()
	case "twice":
		adopted = append(adopted, s.Adopt(nc, nil, nil), s.Adopt(nc, nil, nil))
	}
	if how == "after" && !cfg.GoroutinePerConn { // the engine's duplicate goes on
		if err := echo(rc, 1); err != nil {
			t.Fatalf("adopted, then the caller's Close: %v", err)
		}
	}
	if how == "twice" && !cfg.GoroutinePerConn { // the first took the fd; the second's net.Conn is closed
		if err := echo(rc, 1); err != nil {
			t.Fatalf("adopted twice: %v", err)
		}
	}
	rc.nc.Close()
	for i, c := range adopted {
		reuseWait(t, fmt.Sprintf("OnClose of adopted %d", i), func() bool {
			return h.closed(c) > 0 // adopted open: OnOpen ran, OnClose must
		})
	}
	if len(h.opened) != len(adopted) {
		t.Errorf("%d OnOpen for %d Conns adopted", len(h.opened), len(adopted))
	}
	if err := echo(by, 2); err != nil {
		t.Fatalf("the bystander: %v", err)
	}
	time.Sleep(10 * time.Millisecond) // a second OnClose would come now
	for i, c := range adopted {
		if n := h.closed(c); n > 1 {
			t.Errorf("adopted %d: OnClose ran %d times", i, n)
		}
	}
}
