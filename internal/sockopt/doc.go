// Package sockopt holds socket options that the standard library's dialers do not
// set, as net.Dialer Control functions, for the engine's client and the load
// generator, and the engine client's default dialer (Dialer).
package sockopt
