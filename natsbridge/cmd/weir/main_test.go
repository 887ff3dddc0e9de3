package main

import (
	"flag"
	"testing"

	"github.com/weir-ws/weir/natsbridge"
)

// TestHooks: without -nats the node is on its own; with it, a NATS bridge to
// the URL given (connected only when the demo's Hub starts it).
func TestHooks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args   []string
		bridge bool
	}{
		{nil, false},
		{[]string{"-nats", "nats://127.0.0.1:1"}, true},
		{[]string{"-nats", "nats://a:4222,nats://b:4222"}, true},
	}
	for _, tt := range tests {
		h := hooks()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		h.ServeFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		b, about, err := h.ServeBridge()
		if err != nil {
			t.Fatal(err)
		}
		if got := b != nil; got != tt.bridge {
			t.Fatalf("%q: bridge %v, want %v", tt.args, got, tt.bridge)
		}
		if b == nil {
			continue
		}
		if _, ok := b.(*natsbridge.Bridge); !ok || about != "NATS at "+tt.args[1] {
			t.Fatalf("%q: %T %q", tt.args, b, about)
		}
		b.Close()
	}
}
