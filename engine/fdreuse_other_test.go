//go:build !linux

package engine

import "net"

type reservedSocket struct{}

func reserveSocket() (*reservedSocket, bool)    { return nil, false }
func (*reservedSocket) connect(string) error    { return nil }
func (*reservedSocket) wrap() (net.Conn, error) { return nil, nil }
func (*reservedSocket) close()                  {}
