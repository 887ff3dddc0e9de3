package sockopt

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

func TestBindNoPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name    string
		control bool
		want    int
	}{
		{"with BindNoPort", true, 1},
		{"without", false, 0},
	}
	for _, tt := range tests {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
		if tt.control {
			d.Control = BindNoPort
		}
		nc, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := nc.LocalAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
			t.Errorf("%s: dialled from %s, want 127.0.0.2", tt.name, got)
		}
		if got := getBindNoPort(t, nc); got != tt.want {
			t.Errorf("%s: IP_BIND_ADDRESS_NO_PORT = %d, want %d", tt.name, got, tt.want)
		}
		nc.Close()
	}
}

// getBindNoPort reads IP_BIND_ADDRESS_NO_PORT from a dialled TCP connection.
func getBindNoPort(t testing.TB, nc net.Conn) int {
	t.Helper()
	rc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}
