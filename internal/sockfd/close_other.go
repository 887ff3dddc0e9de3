//go:build !unix

package sockfd

// closeFD is never reached where the engine has no event loop (nothing is owned).
func closeFD(int) error { return nil }
