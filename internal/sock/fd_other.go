//go:build !(linux || darwin || freebsd)

package sock

import (
	"net/netip"
)

// Where the engine has no event loop nothing is owned: these are never
// reached with a live fd.

func closeFD(int) error { return nil }

func (f *FD) Read([]byte) (int, error)        { return 0, ErrUnsupported }
func (f *FD) Write2(a, b []byte) (int, error) { return 0, ErrUnsupported }
func (f *FD) Shutdown() error                 { return ErrUnsupported }
func (f *FD) Err() error                      { return nil }
func (f *FD) LocalAddr() netip.AddrPort       { return netip.AddrPort{} }

func IsAgain(error) bool { return false }
func IsIntr(error) bool  { return false }
