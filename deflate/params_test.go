package deflate

import (
	"errors"
	"testing"

	"github.com/weir-ws/weir/upgrade"
)

func mustParse(t *testing.T, h string) []upgrade.ExtensionOffer {
	t.Helper()
	e, err := upgrade.ParseExtensions(h)
	if err != nil {
		t.Fatalf("ParseExtensions(%q): %v", h, err)
	}
	return e
}

func TestParseParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   Params
		bare   bool
		err    error
	}{
		{"permessage-deflate", Params{}, false, nil},
		{"permessage-deflate; server_no_context_takeover", Params{ServerNoContextTakeover: true}, false, nil},
		{"permessage-deflate; client_no_context_takeover", Params{ClientNoContextTakeover: true}, false, nil},
		{"permessage-deflate; server_max_window_bits=8", Params{ServerMaxWindowBits: 8}, false, nil},
		{"permessage-deflate; server_max_window_bits=15", Params{ServerMaxWindowBits: 15}, false, nil},
		{`permessage-deflate; server_max_window_bits="10"`, Params{ServerMaxWindowBits: 10}, false, nil},
		{"permessage-deflate; client_max_window_bits", Params{ClientMaxWindowBits: 15}, true, nil},
		{"permessage-deflate; client_max_window_bits=9", Params{ClientMaxWindowBits: 9}, false, nil},
		{"permessage-deflate;server_no_context_takeover;client_no_context_takeover;server_max_window_bits=12;client_max_window_bits=11",
			Params{true, true, 12, 11}, false, nil},
		{"x-webkit-deflate-frame", Params{}, false, ErrNotDeflate},
		{"Permessage-Deflate", Params{}, false, ErrNotDeflate},
		{"permessage-deflate; foo", Params{}, false, ErrUnknownParam},
		{"permessage-deflate; Server_No_Context_Takeover", Params{}, false, ErrUnknownParam},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", Params{}, false, ErrDuplicateParam},
		{"permessage-deflate; client_max_window_bits; client_max_window_bits=10", Params{}, false, ErrDuplicateParam},
		{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", Params{}, false, ErrDuplicateParam},
		{"permessage-deflate; server_no_context_takeover=1", Params{}, false, ErrParamValue},
		{"permessage-deflate; client_no_context_takeover=true", Params{}, false, ErrParamValue},
		{"permessage-deflate; server_max_window_bits", Params{}, false, ErrParamValue},
		{"permessage-deflate; server_max_window_bits=7", Params{}, false, ErrParamValue},
		{"permessage-deflate; server_max_window_bits=16", Params{}, false, ErrParamValue},
		{"permessage-deflate; server_max_window_bits=010", Params{}, false, ErrParamValue},
		{"permessage-deflate; server_max_window_bits=08", Params{}, false, ErrParamValue},
		{"permessage-deflate; client_max_window_bits=0", Params{}, false, ErrParamValue},
		{"permessage-deflate; client_max_window_bits=abc", Params{}, false, ErrParamValue},
		{"permessage-deflate; client_max_window_bits=-9", Params{}, false, ErrParamValue},
	}
	for _, tt := range tests {
		e := mustParse(t, tt.header)
		got, bare, err := parseParams(e[0])
		if !errors.Is(err, tt.err) {
			t.Errorf("%q: err %v, want %v", tt.header, err, tt.err)
			continue
		}
		if err == nil && (got != tt.want || bare != tt.bare) {
			t.Errorf("%q: %+v bare=%v, want %+v bare=%v", tt.header, got, bare, tt.want, tt.bare)
		}
		if pub, perr := ParseParams(e[0]); perr != err || (err == nil && pub != got) {
			t.Errorf("%q: ParseParams differs from parseParams", tt.header)
		}
	}
}

func TestFormatParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Params
		want string
	}{
		{Params{}, "permessage-deflate"},
		{Params{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover"},
		{Params{ClientNoContextTakeover: true, ClientMaxWindowBits: 9}, "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"},
		{Params{true, true, 10, 15}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15"},
	}
	for _, tt := range tests {
		if got := FormatParams(tt.p); got != tt.want {
			t.Errorf("FormatParams(%+v) = %q, want %q", tt.p, got, tt.want)
		}
		// The text parses back to the same parameters.
		back, err := ParseParams(mustParse(t, tt.want)[0])
		if err != nil || back != tt.p {
			t.Errorf("%q parses back to %+v, %v", tt.want, back, err)
		}
		// And AppendParams keeps what dst held.
		if got := string(AppendParams([]byte("x, "), tt.p)); got != "x, "+tt.want {
			t.Errorf("AppendParams = %q", got)
		}
	}
}

func TestAgreementRoundTrip(t *testing.T) {
	t.Parallel()
	seen := map[Agreement]bool{}
	for _, snc := range []bool{false, true} {
		for _, cnc := range []bool{false, true} {
			for sb := MinWindowBits; sb <= MaxWindowBits; sb++ {
				for cb := MinWindowBits; cb <= MaxWindowBits; cb++ {
					p := Params{snc, cnc, sb, cb}
					a := p.Agreement()
					if got := a.Params(); got != p {
						t.Fatalf("%+v -> %d -> %+v", p, a, got)
					}
					if seen[a] {
						t.Fatalf("%+v: Agreement %d used twice", p, a)
					}
					seen[a] = true
				}
			}
		}
	}
	// Absent window sizes pack as 15.
	if got := (Params{}).Agreement().Params(); got != (Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}) {
		t.Fatalf("zero Params -> %+v", got)
	}
}
