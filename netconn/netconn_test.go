package netconn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// fake is a Conn fed by the test: msgs are read in order, then end (with code).
type fake struct {
	msgs    chan []byte
	mu      sync.Mutex
	end     error
	code    frame.StatusCode
	written [][]byte
}

func newFake() *fake { return &fake{msgs: make(chan []byte, 16)} }

func (f *fake) ReadMessage(ctx context.Context) (frame.Opcode, []byte, error) {
	select {
	case m, ok := <-f.msgs:
		if !ok {
			f.mu.Lock()
			defer f.mu.Unlock()
			return 0, nil, f.end
		}
		return frame.OpBinary, m, nil
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

func (f *fake) WriteMessage(op frame.Opcode, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written = append(f.written, append([]byte(nil), p...))
	return nil
}

func (f *fake) finish(code frame.StatusCode, err error) {
	f.mu.Lock()
	f.code, f.end = code, err
	f.mu.Unlock()
	close(f.msgs)
}

func (f *fake) Close(frame.StatusCode, string) error { return nil }
func (f *fake) CloseStatus() (frame.StatusCode, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.code, ""
}
func (f *fake) LocalAddr() netip.AddrPort  { return netip.MustParseAddrPort("127.0.0.1:1") }
func (f *fake) RemoteAddr() netip.AddrPort { return netip.MustParseAddrPort("127.0.0.1:2") }

func TestReadEnd(t *testing.T) {
	t.Parallel()
	boom := errors.New("reset")
	for _, tc := range []struct {
		code frame.StatusCode
		err  error
		want error
	}{
		{frame.StatusNormalClosure, boom, io.EOF},
		{frame.StatusGoingAway, boom, io.EOF},
		{frame.StatusNoStatusRcvd, boom, io.EOF},
		{frame.StatusAbnormalClosure, boom, boom},
		{frame.StatusProtocolError, boom, boom},
	} {
		f := newFake()
		f.msgs <- []byte("hello")
		f.finish(tc.code, tc.err)
		got, err := io.ReadAll(iotest(New(f, frame.OpBinary)))
		if string(got) != "hello" || !errors.Is(err, tc.want) && !(tc.want == io.EOF && err == nil) {
			t.Errorf("code %d: %q, %v; want hello and %v", tc.code, got, err, tc.want)
		}
	}
}

// iotest reads in 2-byte pieces, so a message spans Reads.
func iotest(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) { return r.Read(p[:min(len(p), 2)]) })
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestDeadlines(t *testing.T) {
	t.Parallel()
	f := newFake()
	nc := New(f, frame.OpText)
	// A deadline set while a Read waits wakes it.
	errc := make(chan error, 1)
	go func() { _, err := nc.Read(make([]byte, 8)); errc <- err }()
	time.Sleep(10 * time.Millisecond) // let the Read block (a later deadline works too)
	nc.SetReadDeadline(time.Now())
	select {
	case err := <-errc:
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read after the deadline: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SetReadDeadline did not wake the Read")
	}
	// Cleared, the next message is read: none was lost.
	nc.SetReadDeadline(time.Time{})
	f.msgs <- []byte("ok")
	if b := make([]byte, 8); func() bool { n, err := nc.Read(b); return err != nil || string(b[:n]) != "ok" }() {
		t.Fatal("no message after the deadline was cleared")
	}
	if n, err := nc.Write([]byte("w")); n != 1 || err != nil {
		t.Fatalf("Write %d %v", n, err)
	}
	nc.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := nc.Write([]byte("late")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write past the deadline: %v", err)
	}
	if len(f.written) != 1 || nc.LocalAddr().String() != "127.0.0.1:1" || nc.RemoteAddr().String() != "127.0.0.1:2" {
		t.Fatalf("written %q, addresses %v %v", f.written, nc.LocalAddr(), nc.RemoteAddr())
	}
}

// Close unblocks a Read in progress, which returns net.ErrClosed (net.Conn:
// "Any blocked Read or Write operations will be unblocked and return
// errors"), and a later Read does too, whatever was left unread: the peer
// need not answer the close frame (the fake never does) for the reader to
// be let go. It used to wait for the peer's close, up to the engine's
// CloseTimeout, or here for ever.
func TestCloseUnblocksRead(t *testing.T) {
	t.Parallel()
	f := newFake()
	nc := New(f, frame.OpBinary)
	f.msgs <- []byte("abcd")
	if n, err := nc.Read(make([]byte, 2)); n != 2 || err != nil {
		t.Fatalf("first Read: %d %v", n, err)
	}
	if n, err := nc.Read(make([]byte, 2)); n != 2 || err != nil {
		t.Fatalf("second Read: %d %v", n, err)
	}
	errc := make(chan error, 1)
	go func() { _, err := nc.Read(make([]byte, 8)); errc <- err }()
	time.Sleep(10 * time.Millisecond) // let the Read block (it may also start after Close)
	if err := nc.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read blocked across Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not unblock the Read")
	}
	f.msgs <- []byte("late")
	if n, err := nc.Read(make([]byte, 8)); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %d %v, want net.ErrClosed", n, err)
	}
	if n, err := nc.Write([]byte("x")); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %d %v, want net.ErrClosed", n, err)
	}
}
