//go:build linux || freebsd

package sock

import (
	"net"
	"net/netip"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAcceptAllocatesNothing pins the accept path's garbage: Accept takes
// connections and their peer addresses without a heap allocation (unix.Accept4
// made two per connection, 144 bytes). Not parallel: it counts the process's
// mallocs (under -race too, what CI runs: the counts are the same).
func TestAcceptAllocatesNothing(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		l, err := Listen(addr, 256, false)
		if err != nil {
			if addr[0] == '[' {
				t.Logf("%s: %v (no IPv6 here)", addr, err)
				continue
			}
			t.Fatal(err)
		}
		const n = 64
		var dialed []net.Conn
		want := map[netip.AddrPort]bool{}
		for range n {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			dialed = append(dialed, c)
			want[c.LocalAddr().(*net.TCPAddr).AddrPort()] = true
		}
		fds := make([]int, 0, n)
		remotes := make([]netip.AddrPort, 0, n)
		keep := func(fd int, remote netip.AddrPort) bool {
			fds = append(fds, fd)
			remotes = append(remotes, remote)
			return true
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for len(fds) < n {
			if err := l.Accept(keep); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&m1)
		if got := m1.Mallocs - m0.Mallocs; got > 2 { // slack for a runtime allocation of its own
			t.Errorf("%s: %d allocations accepting %d connections, want none", addr, got, n)
		}
		for i, r := range remotes {
			if !want[r] {
				t.Errorf("%s: connection %d from %v, not a dialed address", addr, i, r)
			}
			checkOwned(t, fds[i])
			unix.Close(fds[i])
		}
		for _, c := range dialed {
			c.Close()
		}
		l.Close(nil)
	}
}
