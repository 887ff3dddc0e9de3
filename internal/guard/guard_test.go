package guard

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/weir-ws/weir/frame"
)

type fakeConn struct {
	log    bytes.Buffer
	failed []error
	ws     []int
	closed int
}

func (f *fakeConn) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(&f.log, nil)) }
func (f *fakeConn) Remote() netip.AddrPort {
	return netip.MustParseAddrPort("192.0.2.1:4242")
}
func (f *fakeConn) Fail(w int, err error) { f.ws, f.failed = append(f.ws, w), append(f.failed, err) }
func (f *fakeConn) CloseNow()             { f.closed++ }

// call is a call point as the engine writes one: the deferred function
// recovers, Panicked does the rest.
func call(p Policy, c *fakeConn, w int, fn func()) {
	defer func() {
		if p != Propagate {
			if v := recover(); v != nil {
				Panicked(c, w, "OnMessage", v)
			}
		}
	}()
	fn()
}

func TestPanicked(t *testing.T) {
	t.Parallel()
	c := &fakeConn{}
	call(Close, c, 7, func() { panic("boom") })
	if len(c.failed) != 1 || c.ws[0] != 7 {
		t.Fatalf("Fail calls %v with keys %v, want one with 7", c.failed, c.ws)
	}
	var pe *Error
	if !errors.As(c.failed[0], &pe) || pe.Callback != "OnMessage" || pe.Value != "boom" || len(pe.Stack) == 0 {
		t.Fatalf("Fail got %#v", c.failed[0])
	}
	var proto *frame.ProtocolError
	if !errors.Is(c.failed[0], ErrPanic) || !errors.As(c.failed[0], &proto) || proto.Code != frame.StatusInternalError {
		t.Fatalf("%v does not unwrap to 1011", c.failed[0])
	}
	for _, want := range []string{"handler panicked", "callback=OnMessage", "panic=boom", "192.0.2.1:4242", "stack="} {
		if !strings.Contains(c.log.String(), want) {
			t.Errorf("log %q lacks %q", c.log.String(), want)
		}
	}
	// Nothing panics: nothing is called.
	c2 := &fakeConn{}
	call(Close, c2, 1, func() {})
	if len(c2.failed) != 0 || c2.log.Len() != 0 {
		t.Fatalf("a call that did not panic failed %v / logged %q", c2.failed, c2.log.String())
	}
}

func TestPanickedAny(t *testing.T) {
	t.Parallel()
	c := &fakeConn{}
	func() {
		defer func() {
			if v := recover(); v != nil {
				PanickedAny(c, "WriteMessageFunc done", v)
			}
		}()
		panic(errors.New("late"))
	}()
	if c.closed != 1 || len(c.failed) != 0 {
		t.Fatalf("closed %d, failed %v: want one CloseNow, no Fail", c.closed, c.failed)
	}
	if !strings.Contains(c.log.String(), "WriteMessageFunc done panicked") {
		t.Fatalf("log %q", c.log.String())
	}
}

func TestHook(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	remote := netip.MustParseAddrPort("[2001:db8::1]:80")
	ran := false
	if Hook(Close, log, remote, func() { ran = true }) || !ran || buf.Len() != 0 {
		t.Fatalf("a quiet hook: ran %v, log %q", ran, buf.String())
	}
	if !Hook(Close, log, remote, func() { panic("verify") }) {
		t.Fatal("a panicking hook was not reported")
	}
	if !strings.Contains(buf.String(), "answering 500") || !strings.Contains(buf.String(), "2001:db8::1") {
		t.Fatalf("log %q", buf.String())
	}
	defer func() {
		if v := recover(); v != "on" {
			t.Fatalf("under Propagate recovered %v, want the panic to go on", v)
		}
	}()
	Hook(Propagate, log, remote, func() { panic("on") })
	t.Fatal("Hook returned under Propagate")
}

// TestRecoverDeferred: Recover and RecoverAny, deferred directly by a call
// point, recover the callback's panic (recover works only in the deferred
// function itself) under Close, and leave it alone under Propagate.
func TestRecoverDeferred(t *testing.T) {
	t.Parallel()
	point := func(p Policy, c *fakeConn, fn func()) {
		defer Recover(p, c, 7, "OnMessage")
		fn()
	}
	anyPoint := func(p Policy, c *fakeConn, fn func()) {
		defer RecoverAny[*fakeConn, int](p, c, "done")
		fn()
	}
	var c fakeConn
	point(Close, &c, func() { panic("boom") })
	if len(c.failed) != 1 || c.ws[0] != 7 || !errors.Is(c.failed[0], ErrPanic) {
		t.Fatalf("failed %v in %v, want one ErrPanic in 7", c.failed, c.ws)
	}
	anyPoint(Close, &c, func() { panic("boom") })
	if c.closed != 1 {
		t.Fatalf("RecoverAny closed %d times, want 1", c.closed)
	}
	point(Close, &c, func() {}) // no panic: nothing happens
	if len(c.failed) != 1 {
		t.Fatalf("failed %v after a call that did not panic", c.failed)
	}
	for name, p := range map[string]func(Policy, *fakeConn, func()){"Recover": point, "RecoverAny": anyPoint} {
		func() {
			defer func() {
				if v := recover(); v != "up" {
					t.Errorf("%s under Propagate: the panic reached the caller as %v, want up", name, v)
				}
			}()
			p(Propagate, &c, func() { panic("up") })
		}()
	}
}
