//go:build linux || darwin || freebsd

package engine

// tuneFD applies Config's TCP options (TCPKeepAlive, TCPUserTimeout) to an
// accepted TCP socket.
func (e *engine) tuneFD(fd int) {
}
