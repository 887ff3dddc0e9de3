package sockopt

import (
	"net"
	"runtime"
	"testing"
)

// Dialer sets BindNoPort (where it exists) only with a source address.
func TestDialer(t *testing.T) {
	t.Parallel()
	if d := Dialer(nil); d.LocalAddr != nil || d.Control != nil {
		t.Fatalf("no source address: LocalAddr %v, Control set %v", d.LocalAddr, d.Control != nil)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
	d := Dialer(local)
	if d.LocalAddr != local || (d.Control != nil) != (runtime.GOOS == "linux") {
		t.Fatalf("source address: LocalAddr %v, Control set %v", d.LocalAddr, d.Control != nil)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
