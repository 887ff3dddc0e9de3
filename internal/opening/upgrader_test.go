package opening

import (
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/upgrade"
)

// Upgrader adds the server's compression and handshake bound to a copy of
// the user's Upgrader, only where the user set none, and returns the user's
// own when it adds nothing.
func TestUpgrader(t *testing.T) {
	t.Parallel()
	own := ownExtensions{} // any Extensions of the user's
	for _, tc := range []struct {
		name     string
		u        *upgrade.Upgrader
		comp     *deflate.Options
		timeout  time.Duration
		same     bool // the user's own pointer back
		deflate  bool // Extensions negotiate permessage-deflate
		bound    time.Duration
		badInput bool
	}{
		{name: "nil", u: nil, timeout: time.Second, bound: time.Second},
		{name: "nothing to add", u: &upgrade.Upgrader{HandshakeTimeout: time.Minute}, timeout: time.Second, same: true, bound: time.Minute},
		{name: "no bound", u: &upgrade.Upgrader{}, timeout: -1, same: true},
		{name: "compression", u: &upgrade.Upgrader{}, comp: &deflate.Options{}, timeout: -1, deflate: true},
		{name: "own extensions kept", u: &upgrade.Upgrader{Extensions: own}, comp: &deflate.Options{}, timeout: -1, same: true},
		{name: "bad compression", u: &upgrade.Upgrader{}, comp: &deflate.Options{ServerMaxWindowBits: 99}, badInput: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var before upgrade.Upgrader
			if tc.u != nil {
				before = *tc.u
			}
			got, err := Upgrader(tc.u, tc.comp, tc.timeout)
			if tc.badInput {
				if err == nil {
					t.Fatal("invalid compression options accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == tc.u) != tc.same {
				t.Fatalf("the user's own Upgrader back: %v, want %v", got == tc.u, tc.same)
			}
			if tc.u != nil && (tc.u.HandshakeTimeout != before.HandshakeTimeout || tc.u.Extensions != before.Extensions) {
				t.Fatal("the user's Upgrader was changed")
			}
			if _, ok := got.Extensions.(*deflate.Negotiator); ok != tc.deflate {
				t.Fatalf("deflate negotiated: %v, want %v", ok, tc.deflate)
			}
			if got.HandshakeTimeout != tc.bound {
				t.Fatalf("HandshakeTimeout %v, want %v", got.HandshakeTimeout, tc.bound)
			}
		})
	}
}

type ownExtensions struct{}

func (ownExtensions) NegotiateExtensions([]upgrade.ExtensionOffer, []byte) ([]byte, any, error) {
	return nil, nil, nil
}
