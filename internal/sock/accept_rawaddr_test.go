//go:build linux || freebsd

package sock

import (
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setPort stores p in network byte order, as the kernel writes a port.
func setPort(dst *uint16, p uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(p>>8), byte(p)
}

func TestRawAddrPort(t *testing.T) {
	t.Parallel()
	v4 := unix.RawSockaddrAny{}
	a4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&v4))
	a4.Family = unix.AF_INET
	a4.Addr = [4]byte{192, 0, 2, 7}
	setPort(&a4.Port, 0x1f90)
	v6 := unix.RawSockaddrAny{}
	a6 := (*unix.RawSockaddrInet6)(unsafe.Pointer(&v6))
	a6.Family = unix.AF_INET6
	a6.Addr = netip.MustParseAddr("2001:db8::9").As16()
	setPort(&a6.Port, 443)
	m6 := unix.RawSockaddrAny{}
	b6 := (*unix.RawSockaddrInet6)(unsafe.Pointer(&m6))
	b6.Family = unix.AF_INET6
	b6.Addr = netip.MustParseAddr("::ffff:10.1.2.3").As16()
	setPort(&b6.Port, 1)
	unixAddr := unix.RawSockaddrAny{}
	unixAddr.Addr.Family = unix.AF_UNIX
	tests := []struct {
		name string
		rsa  *unix.RawSockaddrAny
		n    uint32
		want string
	}{
		{"ipv4", &v4, unix.SizeofSockaddrInet4, "192.0.2.7:8080"},
		{"ipv6", &v6, unix.SizeofSockaddrInet6, "[2001:db8::9]:443"},
		{"v4-mapped", &m6, unix.SizeofSockaddrInet6, "10.1.2.3:1"},
		{"ipv4 short", &v4, unix.SizeofSockaddrInet4 - 1, "invalid AddrPort"},
		{"ipv6 short", &v6, unix.SizeofSockaddrInet4, "invalid AddrPort"},
		{"unix", &unixAddr, unix.SizeofSockaddrAny, "invalid AddrPort"},
	}
	for _, tc := range tests {
		if got := rawAddrPort(tc.rsa, tc.n).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
