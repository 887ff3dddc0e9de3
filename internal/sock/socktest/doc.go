// Package socktest has test helpers for sockets, shared by internal/sock's
// tests and the engine's: a loopback TCP pair, and the TCP options the kernel
// reports for a socket. It is for tests only.
package socktest
