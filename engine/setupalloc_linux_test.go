package engine

import (
	"bytes"
	"net/netip"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSetupAllocs pins the server's garbage per connection, accept to open,
// on the loops (DispatchPool): an accepted, upgraded and idle connection
// allocates its Conn and nothing else, so that a storm of connections leaves
// no garbage for the GC goal to double (bench/results/garbage-2026-12-07.md:
// the RSS after a storm followed it). The clients are raw sockets driven by
// syscalls into fixed buffers, which allocate nothing, so the process's
// mallocs are the server's. Not parallel: it counts the whole process's
// mallocs. It runs under -race too (what CI runs), where the counts are the same.
func TestSetupAllocs(t *testing.T) {
	const warm, n, tries = 256, 128, 3
	s, addr := startServer(t, NopHandler{}, Config{}, nil)
	ap := netip.MustParseAddrPort(addr)
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	req := []byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	buf := make([]byte, 512)
	fds := make([]int, 0, warm+n*tries)
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	open := func() {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatal(err)
		}
		if _, err := unix.Write(fd, req); err != nil {
			t.Fatal(err)
		}
		got := 0
		for !bytes.Contains(buf[:got], []byte("\r\n\r\n")) {
			m, err := unix.Read(fd, buf[got:])
			if err != nil || m == 0 {
				t.Fatalf("read: %d, %v", m, err)
			}
			got += m
		}
		if !bytes.HasPrefix(buf, []byte("HTTP/1.1 101 ")) {
			t.Fatalf("answer %q", buf[:got])
		}
	}
	for range warm { // tables and workers grown, pools filled
		open()
	}
	// The best of a few windows: a goroutine of an earlier test still
	// winding down may allocate in one.
	allocs, smallPer, totalPer := 1e9, 1e9, 0.0
	for range tries {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range n {
			open()
		}
		runtime.ReadMemStats(&m1)
		// Bytes in objects up to 1 KiB: what grows with the number of
		// connections or the load (the loops' fd tables, doubling; a pool
		// worker started on demand, tens of KiB) is larger, rare, and counted
		// in allocs.
		var small uint64
		for i := range m1.BySize {
			if m1.BySize[i].Size <= 1024 {
				small += (m1.BySize[i].Mallocs - m0.BySize[i].Mallocs) * uint64(m1.BySize[i].Size)
			}
		}
		if a := float64(m1.Mallocs-m0.Mallocs) / n; a < allocs {
			allocs, smallPer, totalPer = a, float64(small)/n, float64(m1.TotalAlloc-m0.TotalAlloc)/n
		}
	}
	t.Logf("per connection: %.2f allocations, %.0f bytes (%.0f in objects up to 1 KiB); %d open",
		allocs, totalPer, smallPer, s.NumConns())
	// The Conn (352 B), with slack for a runtime allocation of its own.
	if allocs > 1.05 || smallPer > 352+16 {
		t.Errorf("per connection: %.2f allocations, %.0f bytes in objects up to 1 KiB; want the Conn only (1, 352 B)", allocs, smallPer)
	}
}
