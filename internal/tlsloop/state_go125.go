//go:build !go1.26

package tlsloop

import "crypto/tls"

// Before Go 1.26 a ConnectionState has no HelloRetryRequest.
var newerFields []string

func hrr(*tls.ConnectionState) bool { return false }

func setHRR(*tls.ConnectionState, bool) {}
