//go:build go1.26

package tlsloop

import "crypto/tls"

var newerFields = []string{"HelloRetryRequest"}

func hrr(st *tls.ConnectionState) bool { return st.HelloRetryRequest }

func setHRR(st *tls.ConnectionState, on bool) { st.HelloRetryRequest = on }
