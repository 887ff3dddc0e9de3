package loadgen

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestArgsRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []Options{
		{Target: "127.0.0.1:9000", Conns: 10, Sources: 0, Size: 0, Concurrency: 1, StormFor: time.Second},
		{Target: "ws://example.com/chat?x=1", Conns: 5000, Base: 5000, Sources: 8, Size: 16384, Text: true, Deflate: true, Concurrency: 32, StormFor: 2 * time.Second},
		{Target: "127.0.0.1:9000", Raw: true, Conns: 3, Size: 64, Concurrency: 4, StormFor: 1500 * time.Millisecond},
		{Target: "wss://localhost:8443/", Storm: true, Concurrency: 64, StormFor: 5 * time.Second, Sources: 254},
		{Target: "127.0.0.1:9000", Conns: 10, Size: 64, Concurrency: 1, StormFor: time.Second,
			DialTimeout: 1500 * time.Millisecond, ConnectFor: 3 * time.Second, Rate: 1234.5},
		{Target: "ws://127.0.0.1:8080/chat", Conns: 10, Size: 64, Concurrency: 1, StormFor: time.Second,
			Fanout: true, Publishers: 2, Rate: 0.5},
	}
	for _, o := range tests {
		got, err := ParseArgs(o.Args())
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if got != o {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
		}
	}
}

func TestParseArgsDefaults(t *testing.T) {
	t.Parallel()
	got, err := ParseArgs([]string{"-target", "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{Target: "127.0.0.1:1", Conns: 100, Sources: 8, Size: 64, Concurrency: 32, StormFor: 2 * time.Second}
	if got != want {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ok := Options{Target: "127.0.0.1:1", Conns: 1, Size: 1, Concurrency: 1, StormFor: time.Second}
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"no target", func(o *Options) { o.Target = "" }},
		{"bad scheme", func(o *Options) { o.Target = "http://x/" }},
		{"no host", func(o *Options) { o.Target = "ws:///path" }},
		{"unparsable", func(o *Options) { o.Target = "ws://[::1/" }},
		{"negative conns", func(o *Options) { o.Conns = -1 }},
		{"negative size", func(o *Options) { o.Size = -1 }},
		{"too many sources", func(o *Options) { o.Sources = 255 }},
		{"storm without goroutines", func(o *Options) { o.Storm, o.Concurrency = true, 0 }},
		{"storm without time", func(o *Options) { o.Storm, o.StormFor = true, 0 }},
		{"raw over TLS", func(o *Options) { o.Raw, o.Target = true, "wss://x/" }},
		{"negative dial timeout", func(o *Options) { o.DialTimeout = -1 }},
		{"negative connect bound", func(o *Options) { o.ConnectFor = -1 }},
		{"negative rate", func(o *Options) { o.Rate = -1 }},
		{"rate too high", func(o *Options) { o.Rate = 2e6 }},
		{"rate with raw", func(o *Options) { o.Rate, o.Size, o.Raw = 10, 64, true }},
		{"rate with a message too small for a stamp", func(o *Options) { o.Rate, o.Size = 10, stampLen-1 }},
		{"fanout publishers over conns", func(o *Options) { o.Fanout, o.Publishers, o.Rate = true, 2, 1 }},
		{"fanout publishers without a rate", func(o *Options) { o.Fanout, o.Publishers = true, 1 }},
		{"fanout with a storm", func(o *Options) { o.Fanout, o.Storm = true, true }},
	}
	if err := ok.Check(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for _, tt := range tests {
		o := ok
		tt.edit(&o)
		if err := o.Check(); !errors.Is(err, ErrBadOptions) {
			t.Errorf("%s: Check() = %v, want ErrBadOptions", tt.name, err)
		}
	}
	if _, err := ParseArgs([]string{"-target", "127.0.0.1:1", "extra"}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("extra argument: %v", err)
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct{ target, url, addr string }{
		{"127.0.0.1:9000", "ws://127.0.0.1:9000/", "127.0.0.1:9000"},
		{"ws://example.com", "ws://example.com/", "example.com:80"},
		{"wss://example.com/feed?a=b", "wss://example.com/feed?a=b", "example.com:443"},
		{"ws://[::1]:81/x", "ws://[::1]:81/x", "[::1]:81"},
	}
	for _, tt := range tests {
		u, addr, err := Options{Target: tt.target}.endpoint()
		if err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		if u.String() != tt.url || addr != tt.addr {
			t.Errorf("%s: %s %s, want %s %s", tt.target, u, addr, tt.url, tt.addr)
		}
	}
}

// FuzzParseArgs checks that whatever ParseArgs accepts survives Args unchanged.
func FuzzParseArgs(f *testing.F) {
	f.Add("-target 127.0.0.1:1 -conns 5 -nsrc 2 -text")
	f.Add("-target ws://h/p -storm -conc 3 -dur 1s -raw")
	f.Add("-target wss://h -deflate -size 0 -base 7")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseArgs(strings.Fields(s))
		if err != nil {
			return
		}
		got, err := ParseArgs(o.Args())
		if err != nil || got != o {
			t.Fatalf("%q: round trip %+v, %v; want %+v", s, got, err, o)
		}
	})
}
