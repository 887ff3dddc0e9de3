package loadgen

import (
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDialerSourceAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for i, want := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.2"} {
		nc, err := newDialer(srcAddr(i, 2)).Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if got := nc.LocalAddr().(*net.TCPAddr).IP.String(); got != want {
			t.Errorf("connection %d from %s, want %s", i, got, want)
		}
		rc, err := nc.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		rc.Control(func(fd uintptr) {
			v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT)
		})
		if gerr != nil || v != 1 {
			t.Errorf("IP_BIND_ADDRESS_NO_PORT = %d, %v; want 1", v, gerr)
		}
		nc.Close()
	}
	if d := newDialer(nil); d.LocalAddr != nil || d.Control != nil {
		t.Error("no source address: the dialer binds anyway")
	}
	var _ func(string, string, syscall.RawConn) error = bindNoPort
}
