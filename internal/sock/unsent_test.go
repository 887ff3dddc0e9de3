//go:build linux || darwin

package sock

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestUnsent: bytes a peer has not read are held in the kernel (Unsent > 0)
// until it reads them; the fd and the net.Conn forms agree.
func TestUnsent(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, ok := UnsentConn(c); !ok || n != 0 {
		t.Fatalf("nothing written: Unsent %d %v", n, ok)
	}
	c.(*net.TCPConn).SetWriteBuffer(1 << 20)
	s.(*net.TCPConn).SetReadBuffer(16 << 10)
	c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	big := make([]byte, 4<<20)
	w, _ := c.Write(big) // fills both sides' buffers, then times out
	n, ok := UnsentConn(c)
	if !ok || n <= 0 || n > w {
		t.Fatalf("%d written, none read: Unsent %d %v", w, n, ok)
	}
	var f FD
	fd, taken := TakeConn(c) // a duplicate: the same socket
	if !taken {
		t.Fatal("TakeConn declined a TCP conn")
	}
	f.Own(fd)
	defer f.Close()
	if m, ok := f.Unsent(); !ok || m != n {
		t.Fatalf("FD.Unsent %d %v, UnsentConn %d", m, ok, n)
	}
	if _, err := io.ReadFull(s, make([]byte, w)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for n, _ = f.Unsent(); n != 0 && time.Now().Before(deadline); n, _ = f.Unsent() {
		time.Sleep(5 * time.Millisecond) // the last acknowledgement is on its way
	}
	if n != 0 {
		t.Fatalf("all read: Unsent %d", n)
	}
	f.Close()
	if _, ok := f.Unsent(); ok {
		t.Fatal("Unsent of a closed FD")
	}
}
