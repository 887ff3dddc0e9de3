package engine

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/netconn"
)

// The client's NetConn (net.Conn over a WebSocket connection).

func TestClientNetConn(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(false)
		_, addr := startServer(t, srv, cfg, nil)
		cl := cliClient(t, nil, cfg)
		t.Run("stream of messages", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := netconn.New(c, frame.OpBinary)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			var want []byte
			for i, n := range []int{5, 0, 70000, 1, 300} {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				want = append(want, p...)
				if err := sc.WriteBinary(p); err != nil {
					t.Fatal(err)
				}
			}
			sc.Close(frame.StatusNormalClosure, "")
			// A small buffer splits messages across reads, as io.Copy into a
			// slow writer would.
			var got bytes.Buffer
			if _, err := io.CopyBuffer(struct{ io.Writer }{&got}, struct{ io.Reader }{nc}, make([]byte, 7)); err != nil {
				t.Fatalf("copy: %v (a normal close must read as EOF)", err)
			}
			mustEqual(t, got.Bytes(), want)
			if n, err := nc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("read after EOF: %d %v", n, err)
			}
			cliRecv(t, srv.closed, "server OnClose")
		})
		t.Run("Write and addresses", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := netconn.New(c, frame.OpText)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if n, err := nc.Write([]byte("one message")); n != 11 || err != nil {
				t.Fatalf("Write %d %v", n, err)
			}
			if m := cliRecv(t, srv.msgs, "server message"); m.op != frame.OpText || string(m.data) != "one message" {
				t.Fatalf("server got %v %q", m.op, m.data)
			}
			if got, want := nc.LocalAddr().String(), sc.RemoteAddr().String(); got != want {
				t.Fatalf("LocalAddr %s, server sees %s", got, want)
			}
			if got := nc.RemoteAddr().String(); got != addr {
				t.Fatalf("RemoteAddr %s, want %s", got, addr)
			}
			if err := nc.Close(); err != nil {
				t.Fatal(err)
			}
			if r := cliRecv(t, srv.closed, "server OnClose"); r.code != frame.StatusNormalClosure {
				t.Fatalf("server OnClose %d %v", r.code, r.err)
			}
		})
		t.Run("read deadline", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := netconn.New(c, frame.OpBinary)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := nc.Read(make([]byte, 8))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("Read past the deadline: %v", err)
			}
			nc.SetReadDeadline(time.Time{})
			sc.WriteBinary([]byte("after"))
			buf := make([]byte, 8)
			if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "after" {
				t.Fatalf("Read after clearing the deadline: %q %v", buf[:n], err)
			}
		})
		t.Run("deadline set during a blocked Read", func(t *testing.T) {
			// net.Conn: a deadline set while a Read is blocked applies to it, so
			// another goroutine can interrupt the Read (net/http and io.Copy-based
			// proxies rely on it).
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			nc := netconn.New(c, frame.OpBinary)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			readErr := make(chan error, 1)
			go func() {
				_, err := nc.Read(make([]byte, 8))
				readErr <- err
			}()
			time.Sleep(20 * time.Millisecond) // let the Read block
			setDone := make(chan struct{})
			go func() {
				nc.SetReadDeadline(time.Now())
				close(setDone)
			}()
			select {
			case err := <-readErr:
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("interrupted Read: %v, want a timeout", err)
				}
			case <-time.After(3 * time.Second):
				t.Errorf("SetReadDeadline did not interrupt a blocked Read")
				sc.WriteBinary([]byte("unblock")) // let the Read (and the setter) finish
				<-readErr
			}
			<-setDone
		})
	})
}
