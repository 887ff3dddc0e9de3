package opening

import (
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/upgrade"
)

// Upgrader returns the Upgrader a server's handshakes run with, made from
// the one its user gave (nil: upgrade's defaults) and the server's
// Config.Compression and HandshakeTimeout: u itself when they change nothing,
// else a copy (the user's is never changed). permessage-deflate is
// negotiated with comp (validated here) unless u has Extensions of its own;
// net/http's handshakes (ServeHTTP) are bounded by timeout unless u has a
// HandshakeTimeout (or timeout is negative: none).
func Upgrader(u *upgrade.Upgrader, comp *deflate.Options, timeout time.Duration) (*upgrade.Upgrader, error) {
	if u == nil {
		u = &upgrade.Upgrader{}
	}
	ext := comp != nil && u.Extensions == nil
	if ext {
		if err := comp.Validate(); err != nil {
			return nil, err
		}
	}
	bound := u.HandshakeTimeout == 0 && timeout > 0
	if !ext && !bound {
		return u, nil
	}
	uc := *u
	if ext {
		uc.Extensions = deflate.NewNegotiator(comp)
	}
	if bound {
		uc.HandshakeTimeout = timeout
	}
	return &uc, nil
}
