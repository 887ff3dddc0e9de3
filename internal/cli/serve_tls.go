package cli

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
)

// wss for the demo server: with -tls-cert and -tls-key, the engine listens
// for wss itself (engine.Server.ListenTLS) on -tls-addr, so TLS 1.3
// connections run on its event loops with no goroutine each (TLS 1.2 and
// ChaCha20-Poly1305 clients in goroutine mode: docs/tls-design.md). The page,
// /stats and /metrics stay on http://ADDR/: net/http's TLS server would keep
// every hijacked connection in goroutine mode.

// serveTLSFlags are serve's TLS flags.
type serveTLSFlags struct {
	cert, key, addr *string
}

func addServeTLSFlags(fs *flag.FlagSet) serveTLSFlags {
	return serveTLSFlags{
		cert: fs.String("tls-cert", "", "PEM certificate (chain) `file`: serve wss on -tls-addr, on the event loops"),
		key:  fs.String("tls-key", "", "PEM private key `file` for -tls-cert"),
		addr: fs.String("tls-addr", "127.0.0.1:8443", "wss listen address with -tls-cert (port 0 picks one)"),
	}
}

var errTLSFlags = errors.New("serve: -tls-cert and -tls-key go together")

// config loads the key pair; nil without -tls-cert.
func (f serveTLSFlags) config() (*tls.Config, error) {
	if (*f.cert == "") != (*f.key == "") {
		return nil, errTLSFlags
	}
	if *f.cert == "" {
		return nil, nil
	}
	kp, err := tls.LoadX509KeyPair(*f.cert, *f.key)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{kp}}, nil
}
