package upgrade

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []ExtensionOffer
		ok   bool
	}{
		{"permessage-deflate", []ExtensionOffer{{Name: "permessage-deflate"}}, true},
		{"permessage-deflate; client_max_window_bits", []ExtensionOffer{{Name: "permessage-deflate", Params: []ExtensionParam{{"client_max_window_bits", ""}}}}, true},
		{"a;x=1;y=\"2\" , b ; z", []ExtensionOffer{{Name: "a", Params: []ExtensionParam{{"x", "1"}, {"y", "2"}}}, {Name: "b", Params: []ExtensionParam{{"z", ""}}}}, true},
		{"a; x=\"\\1\\0\"", []ExtensionOffer{{Name: "a", Params: []ExtensionParam{{"x", "10"}}}}, true},
		{"\tfoo\t,\tbar\t", []ExtensionOffer{{Name: "foo"}, {Name: "bar"}}, true},
		{"", nil, false},
		{",", nil, false},
		// RFC 9110 §5.6.1: empty list elements are ignored, within a bound.
		{"a,", []ExtensionOffer{{Name: "a"}}, true},
		{"a,,b", []ExtensionOffer{{Name: "a"}, {Name: "b"}}, true},
		{" , a ,\t, b ,", []ExtensionOffer{{Name: "a"}, {Name: "b"}}, true},
		{" , ,", nil, false},
		{"a;", nil, false},
		{"a; =1", nil, false},
		{"a; x=", nil, false},
		{"a; x = 1", nil, false},
		{"a; x=\"\"", nil, false},
		{"a; x=\"b c\"", nil, false},
		{"a; x=\"unterminated", nil, false},
		{"a; x=\"bad\\", nil, false},
		{"a b", nil, false},
		{"a; x=1 2", nil, false},
		{"a/b", nil, false},
	}
	for _, c := range cases {
		got, err := ParseExtensions(c.in)
		if (err == nil) != c.ok || c.ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseExtensions(%q) = %+v, %v", c.in, got, err)
		}
		if !c.ok && !errors.Is(err, ErrBadExtensions) {
			t.Errorf("ParseExtensions(%q) error %v is not ErrBadExtensions", c.in, err)
		}
	}
}

func TestFormatExtensionsRoundTrip(t *testing.T) {
	t.Parallel()
	exts := []ExtensionOffer{
		{Name: "permessage-deflate", Params: []ExtensionParam{{"client_max_window_bits", ""}, {"server_max_window_bits", "10"}}},
		{Name: "x-odd", Params: []ExtensionParam{{"v", `a "b"\c`}}},
		{Name: "plain"},
	}
	s := FormatExtensions(exts)
	if want := `permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-odd; v="a \"b\"\\c", plain`; s != want {
		t.Fatalf("FormatExtensions = %s", s)
	}
	// The odd value is not a token, so RFC 6455 §9.1 forbids it: parsing refuses.
	if _, err := ParseExtensions(s); err == nil {
		t.Fatal("a quoted non-token value parsed")
	}
	exts[1].Params[0].Value = "ok"
	got, err := ParseExtensions(FormatExtensions(exts))
	if err != nil || !reflect.DeepEqual(got, exts) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if v, ok := got[0].Param("SERVER_MAX_WINDOW_BITS"); !ok || v != "10" {
		t.Fatalf("Param = %q %v", v, ok)
	}
}

type badNegotiator struct {
	out string
	err error
}

func (n badNegotiator) NegotiateExtensions(_ []ExtensionOffer, dst []byte) ([]byte, any, error) {
	return append(dst, n.out...), nil, n.err
}

func TestExtensionNegotiation(t *testing.T) {
	t.Parallel()
	offer := "Sec-WebSocket-Extensions: x-unknown, permessage-deflate; client_max_window_bits"
	cases := []struct {
		name   string
		neg    ExtensionNegotiator
		offer  string
		status int
		err    error
		header string
		state  any
	}{
		{"accepted", pmdNegotiator{}, offer, 101, nil, "permessage-deflate; client_max_window_bits=15", pmdWithBits},
		{"nothing offered: not called", badNegotiator{err: errors.New("must not run")}, "", 101, nil, "", nil},
		{"none configured", nil, offer, 101, nil, "", nil},
		{"declined", badNegotiator{}, offer, 101, nil, "", nil},
		{"negotiator error", badNegotiator{err: ErrBadExtensions}, offer, 400, ErrBadExtensions, "", nil},
		{"negotiator plain error", badNegotiator{err: errors.New("x")}, offer, 500, nil, "", nil},
		{"answer names what was not offered", badNegotiator{out: "x-other"}, offer, 500, ErrBadNegotiation, "", nil},
		{"answer malformed", badNegotiator{out: "permessage-deflate;"}, offer, 500, ErrBadNegotiation, "", nil},
		{"answer injects a header", badNegotiator{out: "x-unknown\r\nX-Evil: 1"}, offer, 500, ErrBadNegotiation, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fields := validFields
			if tc.offer != "" {
				fields = append(fields[:len(fields):len(fields)], tc.offer)
			}
			out, res := handshake(t, &Upgrader{Extensions: tc.neg}, buildRequest("GET / HTTP/1.1", fields...))
			if res.Status != tc.status || tc.err != nil && !errors.Is(res.Err, tc.err) {
				t.Fatalf("got %d %v, want %d %v", res.Status, res.Err, tc.status, tc.err)
			}
			resp := readAnswer(t, out)
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != tc.header {
				t.Errorf("header %q, want %q", got, tc.header)
			}
			if resp.Header.Get("X-Evil") != "" {
				t.Error("negotiator injected a header")
			}
			if res.Extensions != tc.state {
				t.Errorf("state %v, want %v", res.Extensions, tc.state)
			}
		})
	}
}
