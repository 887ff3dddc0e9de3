package iplimit

import (
	"net/netip"
	"testing"
)

var (
	v4     = netip.MustParseAddr("192.0.2.1")
	v4b    = netip.MustParseAddr("192.0.2.2")
	mapped = netip.MustParseAddr("::ffff:192.0.2.1")
	zoned  = netip.MustParseAddr("fe80::1%eth0")
	plain  = netip.MustParseAddr("fe80::1")
)

// TestCounter: IPv4-mapped addresses key as IPv4, zones are dropped, peers
// without an IP are not counted, and an address whose connections are all
// gone is forgotten.
func TestCounter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		enter  []netip.Addr
		want   []bool // Enter's answers
		leave  []netip.Addr
		count  netip.Addr
		counts int // after the leaves
		addrs  int // Len after the leaves
	}{
		{"under the cap", []netip.Addr{v4, v4}, []bool{true, true}, nil, v4, 2, 1},
		{"over the cap counts too", []netip.Addr{v4, v4, v4}, []bool{true, true, false}, []netip.Addr{v4}, v4, 2, 1},
		{"mapped is IPv4", []netip.Addr{v4, mapped, v4}, []bool{true, true, false}, []netip.Addr{mapped, v4, mapped}, v4, 0, 0},
		{"zone dropped", []netip.Addr{zoned, plain, zoned}, []bool{true, true, false}, []netip.Addr{plain}, zoned, 2, 1},
		{"no IP is not counted", []netip.Addr{{}, {}, {}}, []bool{true, true, true}, nil, netip.Addr{}, 0, 0},
		{"addresses apart", []netip.Addr{v4, v4, plain}, []bool{true, true, true}, []netip.Addr{v4, v4}, plain, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := New(2, 0)
			for i, a := range tc.enter {
				if got := l.Enter(a); got != tc.want[i] {
					t.Fatalf("Enter %d (%v) = %v, want %v", i, a, got, tc.want[i])
				}
			}
			for _, a := range tc.leave {
				l.Leave(a)
			}
			if got := l.Count(tc.count); got != tc.counts {
				t.Fatalf("Count(%v) = %d, want %d", tc.count, got, tc.counts)
			}
			if got := l.Len(); got != tc.addrs {
				t.Fatalf("Len = %d, want %d", got, tc.addrs)
			}
		})
	}
}

// TestAdmitMove: Admit leaves nothing counted when it refuses; Move shifts a
// count between keys and is a no-op within one key.
func TestAdmitMove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(l *Counter) bool
		want bool
		a, b int // Count(v4), Count(v4b) afterwards
	}{
		{"admit under the cap", func(l *Counter) bool { return l.Admit(v4) }, true, 1, 0},
		{"admit at the cap", func(l *Counter) bool { l.Enter(v4); l.Enter(v4); return l.Admit(v4) }, false, 2, 0},
		{"move to another", func(l *Counter) bool { l.Enter(v4); return l.Move(v4, v4b) }, true, 0, 1},
		{"move onto a full one", func(l *Counter) bool { l.Enter(v4); l.Enter(v4b); l.Enter(v4b); return l.Move(v4, v4b) }, false, 0, 3},
		{"move within a key", func(l *Counter) bool { l.Enter(v4); l.Enter(v4); l.Enter(v4); return l.Move(v4, mapped) }, true, 3, 0},
		{"move from no IP", func(l *Counter) bool { return l.Move(netip.Addr{}, v4) }, true, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := New(2, 0)
			if got := tc.run(l); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if a, b := l.Count(v4), l.Count(v4b); a != tc.a || b != tc.b {
				t.Fatalf("counts %d, %d, want %d, %d", a, b, tc.a, tc.b)
			}
		})
	}
}

// TestV6Prefix: IPv6 addresses count under their prefix (a /64 by default),
// so a thousand addresses of one /64 are one key at the cap; addresses of a
// thousand /64s are a thousand keys; 128 counts each address alone; lengths
// outside 1-128 are the default.
func TestV6Prefix(t *testing.T) {
	t.Parallel()
	const n = 1000
	in64 := func(i int) netip.Addr { // 2001:db8:0:1:x:x:x:x
		b := netip.MustParseAddr("2001:db8:0:1::").As16()
		b[8], b[11], b[14], b[15] = byte(i*7), byte(i>>3), byte(i>>8), byte(i)
		return netip.AddrFrom16(b)
	}
	apart := func(i int) netip.Addr { // 2001:db8:x:x::1
		b := netip.MustParseAddr("2001:db8::1").As16()
		b[4], b[5], b[6], b[7] = byte(i>>8), byte(i), byte(i>>8), byte(i)
		return netip.AddrFrom16(b)
	}
	tests := []struct {
		name     string
		bits     int
		addr     func(int) netip.Addr
		admitted int // of n, cap 2
		keys     int
	}{
		{"one /64", 0, in64, 2, 1},
		{"one /64, 64 given", 64, in64, 2, 1},
		{"one /64 at 128", 128, in64, n, n},
		{"one /64 at 72", 72, in64, 2 * 256, 256}, // byte 8 (i*7) takes all 256 values
		{"/64s apart", 0, apart, n, n},
		{"/64s apart at 48", 48, apart, n, n},
		{"/64s apart at 32", 32, apart, 2, 1},
		{"out of range is 64", 129, in64, 2, 1},
		{"negative is 64", -1, in64, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := New(2, tc.bits)
			var admitted []netip.Addr
			for i := range n {
				if a := tc.addr(i); l.Admit(a) {
					admitted = append(admitted, a)
				}
			}
			if len(admitted) != tc.admitted || l.Len() != tc.keys {
				t.Fatalf("admitted %d of %d under %d keys, want %d under %d", len(admitted), n, l.Len(), tc.admitted, tc.keys)
			}
			for _, a := range admitted {
				l.Leave(a)
			}
			if l.Len() != 0 {
				t.Fatalf("%d keys left after every Leave", l.Len())
			}
		})
	}
}

// TestNil: without the cap there is nothing: no map, no lock, every call a
// nil check.
func TestNil(t *testing.T) {
	t.Parallel()
	none := New(0, 0)
	if none != nil || !none.Enter(v4) || !none.Admit(v4) || !none.Move(v4, v4b) || none.Count(v4) != 0 || none.Len() != 0 {
		t.Fatal("a zero cap made a counter")
	}
	none.Leave(v4)
}

// TestZeroAllocs: counting allocates nothing once an address has been seen,
// and nothing at all without the cap. (Not parallel: AllocsPerRun.)
func TestZeroAllocs(t *testing.T) {
	warm := New(2, 0)
	v6 := netip.MustParseAddr("2001:db8::1%eth0")
	warm.Enter(v4)
	warm.Leave(v4)
	warm.Enter(v6)
	warm.Leave(v6)
	for _, l := range []*Counter{nil, warm} {
		if n := testing.AllocsPerRun(100, func() {
			l.Enter(v4)
			l.Enter(v6)
			l.Leave(v4)
			l.Leave(v6)
		}); n != 0 {
			t.Fatalf("Enter+Leave allocates %v times (cap %v)", n, l != nil)
		}
	}
}

// BenchmarkCounter: what a connection pays at accept and at its end for the
// cap (and, with none, for the nil check).
func BenchmarkCounter(b *testing.B) {
	for _, bc := range []struct {
		name string
		l    *Counter
	}{{"off", New(0, 0)}, {"on", New(1<<20, 0)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var i uint32
				for pb.Next() {
					i++
					a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
					bc.l.Enter(a)
					bc.l.Leave(a)
				}
			})
		})
	}
}
