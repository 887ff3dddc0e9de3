package deflate

import (
	"errors"
	"testing"

	"github.com/weir-ws/weir/upgrade"
)

func TestNegotiatorServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   *Options
		offer  string
		header string // "" when every offer is declined
		agreed Params
	}{
		{"plain", nil, "permessage-deflate",
			"permessage-deflate", Params{false, false, 15, 15}},
		{"client_max_window_bits bare, no preference", nil, "permessage-deflate; client_max_window_bits",
			"permessage-deflate", Params{false, false, 15, 15}},
		{"client_max_window_bits bare, server limits it", &Options{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits",
			"permessage-deflate; client_max_window_bits=10", Params{false, false, 15, 10}},
		{"client limit below the server's preference", &Options{ClientMaxWindowBits: 12}, "permessage-deflate; client_max_window_bits=10",
			"permessage-deflate; client_max_window_bits=10", Params{false, false, 15, 10}},
		{"client limit binds even unanswered", nil, "permessage-deflate; client_max_window_bits=11",
			"permessage-deflate; client_max_window_bits=11", Params{false, false, 15, 11}},
		{"client limit not offered: cannot answer one", &Options{ClientMaxWindowBits: 10}, "permessage-deflate",
			"permessage-deflate", Params{false, false, 15, 15}},
		{"8 is answered as 9", &Options{ClientMaxWindowBits: 8}, "permessage-deflate; client_max_window_bits",
			"permessage-deflate; client_max_window_bits=9", Params{false, false, 15, 9}},
		{"client offers 8 itself", nil, "permessage-deflate; client_max_window_bits=8",
			"permessage-deflate; client_max_window_bits=8", Params{false, false, 15, 8}},
		{"server_no_context_takeover offered", nil, "permessage-deflate; server_no_context_takeover",
			"permessage-deflate; server_no_context_takeover", Params{true, false, 15, 15}},
		{"server_no_context_takeover by preference", &Options{ServerNoContextTakeover: true}, "permessage-deflate",
			"permessage-deflate; server_no_context_takeover", Params{true, false, 15, 15}},
		{"client_no_context_takeover offered is repeated", nil, "permessage-deflate; client_no_context_takeover",
			"permessage-deflate; client_no_context_takeover", Params{false, true, 15, 15}},
		{"client_no_context_takeover by preference", &Options{ClientNoContextTakeover: true}, "permessage-deflate",
			"permessage-deflate; client_no_context_takeover", Params{false, true, 15, 15}},
		{"server_max_window_bits offered", nil, "permessage-deflate; server_max_window_bits=10",
			"permessage-deflate; server_max_window_bits=10", Params{false, false, 10, 15}},
		{"server_max_window_bits=15 offered is answered", nil, "permessage-deflate; server_max_window_bits=15",
			"permessage-deflate; server_max_window_bits=15", Params{false, false, 15, 15}},
		{"server_max_window_bits=8 offered is honoured", nil, "permessage-deflate; server_max_window_bits=8",
			"permessage-deflate; server_max_window_bits=8", Params{false, false, 8, 15}},
		{"server preference below the offer", &Options{ServerMaxWindowBits: 9}, "permessage-deflate; server_max_window_bits=12",
			"permessage-deflate; server_max_window_bits=9", Params{false, false, 9, 15}},
		{"offer below the server preference", &Options{ServerMaxWindowBits: 12}, "permessage-deflate; server_max_window_bits=10",
			"permessage-deflate; server_max_window_bits=10", Params{false, false, 10, 15}},
		{"server preference unasked", &Options{ServerMaxWindowBits: 11}, "permessage-deflate",
			"permessage-deflate; server_max_window_bits=11", Params{false, false, 11, 15}},
		{"everything", &Options{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBits: 11},
			"permessage-deflate; client_max_window_bits; server_max_window_bits=14",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11",
			Params{true, true, 12, 11}},
		// Bad offers are declined and the next one is tried (RFC 7692 §5).
		{"unknown parameter declined", nil, "permessage-deflate; foo=1", "", Params{}},
		{"duplicate parameter declined", nil, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "", Params{}},
		{"out of range declined", nil, "permessage-deflate; server_max_window_bits=16", "", Params{}},
		{"missing value declined", nil, "permessage-deflate; server_max_window_bits", "", Params{}},
		{"value on a flag declined", nil, "permessage-deflate; client_no_context_takeover=yes", "", Params{}},
		{"other extension ignored", nil, "x-webkit-deflate-frame", "", Params{}},
		{"first acceptable of several", nil,
			"permessage-deflate; server_max_window_bits=7, permessage-deflate; bogus, permessage-deflate; server_max_window_bits=9, permessage-deflate",
			"permessage-deflate; server_max_window_bits=9", Params{false, false, 9, 15}},
		{"first of two valid", nil, "permessage-deflate; client_no_context_takeover, permessage-deflate",
			"permessage-deflate; client_no_context_takeover", Params{false, true, 15, 15}},
		{"after another extension", nil, "foo; bar=1, permessage-deflate; server_no_context_takeover",
			"permessage-deflate; server_no_context_takeover", Params{true, false, 15, 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := NewNegotiator(tt.opts)
			hdr, accepted, err := n.NegotiateExtensions(mustParse(t, tt.offer), []byte("prefix:"))
			if err != nil {
				t.Fatal(err)
			}
			if string(hdr) != "prefix:"+tt.header {
				t.Fatalf("header %q, want %q", hdr, "prefix:"+tt.header)
			}
			if tt.header == "" {
				if accepted != nil {
					t.Fatalf("accepted %v for a declined offer", accepted)
				}
				return
			}
			a, ok := accepted.(Agreement)
			if !ok {
				t.Fatalf("accepted is %T", accepted)
			}
			if got := a.Params(); got != tt.agreed {
				t.Fatalf("agreed %+v, want %+v", got, tt.agreed)
			}
			// The answer is valid for a client that made this offer, and the
			// agreement it reads matches the server's. Offers here come from
			// other clients, so only check the server's header parses.
			if _, err := ParseParams(mustParse(t, tt.header)[0]); err != nil {
				t.Fatalf("answer does not parse: %v", err)
			}
		})
	}
}

// TestNegotiateClientServer runs weir's client offer through weir's server and
// back through the client's check: both sides must agree, for every
// combination of preferences.
func TestNegotiateClientServer(t *testing.T) {
	t.Parallel()
	prefs := []Options{
		{}, {ServerNoContextTakeover: true}, {ClientNoContextTakeover: true},
		{ServerMaxWindowBits: 9}, {ClientMaxWindowBits: 10}, {ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8},
		{ServerMaxWindowBits: 12, ClientMaxWindowBits: 13},
	}
	for _, co := range prefs {
		for _, so := range prefs {
			offer := co.Offer()
			text := upgrade.FormatExtensions([]upgrade.ExtensionOffer{offer})
			hdr, accepted, err := NewNegotiator(&so).NegotiateExtensions(mustParse(t, text), nil)
			if err != nil || accepted == nil {
				t.Fatalf("client %+v server %+v: offer %q declined (%v)", co, so, text, err)
			}
			client, ok, err := co.Accept(mustParse(t, string(hdr)))
			if err != nil || !ok {
				t.Fatalf("client %+v server %+v: answer %q refused: %v", co, so, hdr, err)
			}
			if server := accepted.(Agreement).Params(); server != client {
				t.Fatalf("client %+v server %+v: offer %q answer %q: server agreed %+v, client %+v", co, so, text, hdr, server, client)
			}
		}
	}
}

func TestOffer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts *Options
		want string
	}{
		{nil, "permessage-deflate; client_max_window_bits"},
		{&Options{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=10"},
		{&Options{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits"},
		{&Options{ServerMaxWindowBits: 99}, "permessage-deflate; client_max_window_bits"}, // invalid: default
	}
	for _, tt := range tests {
		if got := upgrade.FormatExtensions([]upgrade.ExtensionOffer{tt.opts.Offer()}); got != tt.want {
			t.Errorf("%+v: offer %q, want %q", tt.opts, got, tt.want)
		}
	}
}

func TestAcceptClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   *Options
		answer string // "" for no Sec-WebSocket-Extensions
		want   Params
		ok     bool
		err    error
	}{
		{"not accepted", nil, "", Params{}, false, nil},
		{"other extension only", nil, "foo", Params{}, false, nil},
		{"plain", nil, "permessage-deflate", Params{false, false, 15, 15}, true, nil},
		{"server_no_context_takeover unasked", nil, "permessage-deflate; server_no_context_takeover", Params{true, false, 15, 15}, true, nil},
		{"client_no_context_takeover unasked", nil, "permessage-deflate; client_no_context_takeover", Params{false, true, 15, 15}, true, nil},
		{"client_no_context_takeover offered, not repeated", &Options{ClientNoContextTakeover: true}, "permessage-deflate", Params{false, true, 15, 15}, true, nil},
		{"server_max_window_bits unasked", nil, "permessage-deflate; server_max_window_bits=10", Params{false, false, 10, 15}, true, nil},
		{"server_max_window_bits confirmed", &Options{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=10", Params{false, false, 10, 15}, true, nil},
		{"server_max_window_bits lowered", &Options{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=9", Params{false, false, 9, 15}, true, nil},
		{"client_max_window_bits set by server", nil, "permessage-deflate; client_max_window_bits=9", Params{false, false, 15, 9}, true, nil},
		{"client_max_window_bits offered value binds", &Options{ClientMaxWindowBits: 11}, "permessage-deflate", Params{false, false, 15, 11}, true, nil},
		{"client_max_window_bits lowered", &Options{ClientMaxWindowBits: 11}, "permessage-deflate; client_max_window_bits=10", Params{false, false, 15, 10}, true, nil},
		{"client_max_window_bits equal", &Options{ClientMaxWindowBits: 11}, "permessage-deflate; client_max_window_bits=11", Params{false, false, 15, 11}, true, nil},

		{"answered twice", nil, "permessage-deflate, permessage-deflate", Params{}, false, ErrBadResponse},
		{"unknown parameter", nil, "permessage-deflate; foo", Params{}, false, ErrUnknownParam},
		{"duplicate parameter", nil, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", Params{}, false, ErrDuplicateParam},
		{"bad value", nil, "permessage-deflate; server_max_window_bits=20", Params{}, false, ErrParamValue},
		{"client_max_window_bits without value", nil, "permessage-deflate; client_max_window_bits", Params{}, false, ErrBadResponse},
		{"client_max_window_bits above the offer", &Options{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=11", Params{}, false, ErrBadResponse},
		{"server_max_window_bits above the offer", &Options{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=11", Params{}, false, ErrBadResponse},
		{"server_max_window_bits not confirmed", &Options{ServerMaxWindowBits: 10}, "permessage-deflate", Params{}, false, ErrBadResponse},
		{"server_no_context_takeover not confirmed", &Options{ServerNoContextTakeover: true}, "permessage-deflate", Params{}, false, ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var resp []upgrade.ExtensionOffer
			if tt.answer != "" {
				resp = mustParse(t, tt.answer)
			}
			got, ok, err := tt.opts.Accept(resp)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil && !errors.Is(err, ErrBadResponse) {
				t.Fatalf("err %v does not wrap ErrBadResponse", err)
			}
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %+v ok=%v, want %+v ok=%v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestUpgradeIntegration runs the negotiator inside upgrade's server
// handshake and the client check on the resulting 101, through the real
// header parsing and the check that answered extensions were offered.
func TestUpgradeIntegration(t *testing.T) {
	t.Parallel()
	var neg upgrade.ExtensionNegotiator = NewNegotiator(&Options{ClientMaxWindowBits: 12})
	offers := mustParse(t, upgrade.FormatExtensions([]upgrade.ExtensionOffer{{Name: "foo"}, (*Options)(nil).Offer()}))
	hdr, accepted, err := neg.NegotiateExtensions(offers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(hdr) != "permessage-deflate; client_max_window_bits=12" {
		t.Fatalf("header %q", hdr)
	}
	p, ok, err := (*Options)(nil).Accept(mustParse(t, string(hdr)))
	if err != nil || !ok || p != accepted.(Agreement).Params() {
		t.Fatalf("client %+v %v %v, server %+v", p, ok, err, accepted)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := []*Options{nil, {}, {Level: 9, ServerMaxWindowBits: 8, ClientMaxWindowBits: 15, HistorySize: 32768, Threshold: -1}}
	for _, o := range good {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	bad := []*Options{{Level: -1}, {Level: 10}, {ServerMaxWindowBits: 7}, {ClientMaxWindowBits: 16}, {HistorySize: -1}, {HistorySize: 32769}}
	for _, o := range bad {
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v, want ErrInvalidOptions", o, err)
		}
	}
	// Invalid fields count as zero everywhere else.
	if s, d := (&Options{Level: 42, HistorySize: -5, ServerMaxWindowBits: 3}).settings(), (*Options)(nil).settings(); s != d {
		t.Errorf("invalid options give %+v, defaults are %+v", s, d)
	}
}
