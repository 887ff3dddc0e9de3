package upgrade

import (
	"errors"
	"strings"
	"testing"
)

// TestParseIncremental feeds every prefix: each must ask for more, and the whole
// must parse to the block length, leaving the frame bytes after it.
func TestParseIncremental(t *testing.T) {
	t.Parallel()
	frame := "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58" // masked "Hello", RFC 6455 §5.7
	buf := []byte(chromeRequest + frame)
	req := NewRequest()
	for i := 0; i < len(chromeRequest); i++ {
		if n, err := ParseRequest(buf[:i], req, nil); err != ErrNeedMore || n != 0 {
			t.Fatalf("prefix %d: n=%d err=%v, want ErrNeedMore", i, n, err)
		}
	}
	n, err := ParseRequest(buf, req, nil)
	if err != nil || n != len(chromeRequest) {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if head := string(buf[n:]); head != frame {
		t.Fatalf("head %q", head)
	}
	// The same Request is reused for another request.
	other := buildRequest("GET /x HTTP/1.1", validFields...)
	if n, err := ParseRequest([]byte(other), req, nil); err != nil || n != len(other) || req.Resource() != "/x" {
		t.Fatalf("reuse: n=%d err=%v resource=%q", n, err, req.Resource())
	}
	if req.Header("User-Agent") != "" {
		t.Fatal("fields of the previous request survived reuse")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	valid := buildRequest("GET / HTTP/1.1", validFields...)
	long := strings.Repeat("a", 5000)
	cases := []struct {
		name string
		in   string
		lim  *Limits
		err  error
	}{
		{"bare LF in fields", strings.ReplaceAll(valid, "\r\n", "\n"), nil, ErrMalformed},
		{"bare LF after request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", nil, ErrMalformed},
		{"empty first line", "\r\nGET / HTTP/1.1\r\n\r\n", nil, ErrMalformed},
		{"obs-fold", buildRequest("GET / HTTP/1.1", "Host: x", " folded"), nil, ErrMalformed},
		{"space before colon", buildRequest("GET / HTTP/1.1", "Host : x"), nil, ErrMalformed},
		{"no colon", buildRequest("GET / HTTP/1.1", "Host"), nil, ErrMalformed},
		{"empty name", buildRequest("GET / HTTP/1.1", ": x"), nil, ErrMalformed},
		{"NUL in value", buildRequest("GET / HTTP/1.1", "X-A: a\x00b"), nil, ErrMalformed},
		{"CR in value", buildRequest("GET / HTTP/1.1", "X-A: a\rb"), nil, ErrMalformed},
		{"two spaces in request line", buildRequest("GET  / HTTP/1.1"), nil, ErrMalformed},
		// Absolute-form (RFC 9112 §3.2.2) is accepted for http and https
		// (absform_test.go); other schemes are not.
		{"absolute-form target, ws scheme", buildRequest("GET ws://x/ HTTP/1.1"), nil, ErrMalformed},
		{"asterisk target", buildRequest("GET * HTTP/1.1"), nil, ErrMalformed},
		{"fragment in target", buildRequest("GET /a#b HTTP/1.1"), nil, ErrMalformed},
		{"bad escape in path", buildRequest("GET /a%zz HTTP/1.1"), nil, ErrMalformed},
		{"short escape in path", buildRequest("GET /a% HTTP/1.1"), nil, ErrMalformed},
		{"non-ASCII in target", buildRequest("GET /\xc3\xa4 HTTP/1.1"), nil, ErrMalformed},
		{"empty Content-Length", buildRequest("GET / HTTP/1.1", "Content-Length:"), nil, ErrMalformed},
		{"signed Content-Length", buildRequest("GET / HTTP/1.1", "Content-Length: +0"), nil, ErrMalformed},
		{"conflicting Content-Length", buildRequest("GET / HTTP/1.1", "Content-Length: 0", "Content-Length: 1"), nil, ErrMalformed},
		{"gzip Transfer-Encoding", buildRequest("GET / HTTP/1.1", "Transfer-Encoding: gzip, chunked"), nil, ErrMalformed},
		{"two Transfer-Encoding lines", buildRequest("GET / HTTP/1.1", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), nil, ErrMalformed},
		{"bad version", buildRequest("GET / HTTP/1.10"), nil, ErrMalformed},
		{"lower-case version", buildRequest("GET / http/1.1"), nil, ErrMalformed},
		{"method with slash", buildRequest("G/T / HTTP/1.1"), nil, ErrMalformed},
		{"header block over 8 KiB", buildRequest("GET / HTTP/1.1", "A: "+long[:4000], "B: "+long[:4000], "C: "+long[:400]), nil, ErrHeaderTooLarge},
		{"header line over 4 KiB", buildRequest("GET / HTTP/1.1", "A: "+long), nil, ErrLineTooLong},
		{"request line over 4 KiB", buildRequest("GET /" + long + " HTTP/1.1"), nil, ErrRequestLineTooLong},
		{"too many fields", buildRequest("GET / HTTP/1.1", "A: 1", "B: 2", "C: 3"), &Limits{MaxHeaders: 2}, ErrTooManyHeaders},
		{"custom block cap", valid, &Limits{MaxHeaderBytes: 64}, ErrHeaderTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := NewRequest()
			if _, err := ParseRequest([]byte(tc.in), req, tc.lim); err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

// TestParseEarlyReject shows that an incomplete block is refused as soon as what
// arrived is wrong, instead of waiting for the rest.
func TestParseEarlyReject(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in  string
		err error
	}{
		{"\x16\x03\x01\x02\x00\x01", ErrMalformed}, // a TLS ClientHello on a plain port
		{"GET /a b", ErrMalformed},
		{"GET / HTTP/2", ErrNeedMore},
		{"GET / HTTQ", ErrMalformed},
		{"GET / HTTP/1.1\r\nHost: x\n", ErrMalformed},
		{"GET / HTTP/1.1\r\n" + strings.Repeat("x", 4096), ErrLineTooLong},
		{"GET /" + strings.Repeat("x", 4096), ErrRequestLineTooLong},
		{"GET / HTTP/1.1\r", ErrNeedMore},
		{"GET /%4", ErrNeedMore},
		{"GET /%4x", ErrMalformed},
	}
	for _, tc := range cases {
		if _, err := ParseRequest([]byte(tc.in), NewRequest(), nil); err != tc.err {
			t.Errorf("%q: err = %v, want %v", tc.in, err, tc.err)
		}
	}
	// Field count and block size are enforced before the block ends.
	many := "GET / HTTP/1.1\r\n" + strings.Repeat("A: b\r\n", 65)
	if _, err := ParseRequest([]byte(many), NewRequest(), nil); err != ErrTooManyHeaders {
		t.Errorf("65 fields, incomplete: %v", err)
	}
	big := "GET / HTTP/1.1\r\n" + strings.Repeat("A: "+strings.Repeat("b", 1000)+"\r\n", 9)
	if _, err := ParseRequest([]byte(big), NewRequest(), nil); err != ErrHeaderTooLarge {
		t.Errorf("9 KiB, incomplete: %v", err)
	}
}

// TestParseLimitsExact checks the caps are inclusive: a block of exactly
// MaxHeaderBytes and a line of exactly MaxLineBytes pass.
func TestParseLimitsExact(t *testing.T) {
	t.Parallel()
	base := "GET / HTTP/1.1\r\nHost: x\r\n"
	pad := 100 - len(base) - len("X: \r\n") - 2
	in := base + "X: " + strings.Repeat("y", pad) + "\r\n\r\n"
	if len(in) != 100 {
		t.Fatalf("setup: %d", len(in))
	}
	if _, err := ParseRequest([]byte(in), NewRequest(), &Limits{MaxHeaderBytes: 100}); err != nil {
		t.Fatalf("exactly at the cap: %v", err)
	}
	if _, err := ParseRequest([]byte(in), NewRequest(), &Limits{MaxHeaderBytes: 99}); err != ErrHeaderTooLarge {
		t.Fatalf("one over the cap: %v", err)
	}
	lineLen := len("X: ") + pad + 2
	if _, err := ParseRequest([]byte(in), NewRequest(), &Limits{MaxLineBytes: lineLen}); err != nil {
		t.Fatalf("line exactly at the cap: %v", err)
	}
	if _, err := ParseRequest([]byte(in), NewRequest(), &Limits{MaxLineBytes: lineLen - 1}); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("line one over the cap: %v", err)
	}
}

func TestAppendError(t *testing.T) {
	t.Parallel()
	for _, err := range []error{ErrHeaderTooLarge, ErrMalformed, ErrRequestLineTooLong, errors.New("boom")} {
		resp := readAnswer(t, string(AppendError(nil, err)))
		if resp.StatusCode != StatusOf(err) || !resp.Close {
			t.Errorf("%v: status %d close %v", err, resp.StatusCode, resp.Close)
		}
	}
}

// TestParseRequestLongLineSplit: a request line over the limit with a byte no
// request line may hold before the limit ends as it does when a read cuts it
// short of the limit (the partial line is checked: 400), not with 414
// (found by internal/opening's FuzzInputSplit).
func TestParseRequestLongLineSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		bad  int // index of a \x01 in the line, -1: none
		want error
	}{
		{"bad byte early", 3442, ErrMalformed},
		{"bad byte just before the limit", DefaultMaxLineBytes - 2, ErrMalformed},
		{"bad byte past the limit", DefaultMaxLineBytes + 10, ErrRequestLineTooLong},
		{"no bad byte", -1, ErrRequestLineTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := []byte(strings.Repeat("a", DefaultMaxLineBytes+43))
			if tc.bad >= 0 {
				line[tc.bad] = 1
			}
			if _, err := ParseRequest(line, NewRequest(), nil); err != tc.want {
				t.Errorf("whole: %v, want %v", err, tc.want)
			}
			// Cut before the limit, as a read would: the first part alone.
			for _, cut := range []int{tc.bad + 1, DefaultMaxLineBytes - 1} {
				if cut <= 0 || cut >= DefaultMaxLineBytes {
					continue
				}
				_, err := ParseRequest(line[:cut], NewRequest(), nil)
				if err == ErrNeedMore {
					_, err = ParseRequest(line, NewRequest(), nil)
				}
				if err != tc.want {
					t.Errorf("cut at %d: %v, want %v", cut, err, tc.want)
				}
			}
		})
	}
}

// TestParseRequestPrefixesAgree: a request fed as growing prefixes (as reads
// deliver it) ends with the answer the whole request gets, whatever the
// limits, also when MaxHeaderBytes is below MaxLineBytes.
func TestParseRequestPrefixesAgree(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name string
		req  string
		lim  Limits
	}{
		{"request line over both, block < line", "GET /" + long(3000) + " HTTP/1.1\r\n\r\n", Limits{MaxHeaderBytes: 1000, MaxLineBytes: 2000}},
		{"request line over block only", "GET /" + long(1500) + " HTTP/1.1\r\n\r\n", Limits{MaxHeaderBytes: 1000, MaxLineBytes: 2000}},
		{"request line over both, line < block", "GET /" + long(3000) + " HTTP/1.1\r\n\r\n", Limits{MaxHeaderBytes: 2000, MaxLineBytes: 1000}},
		{"header line over block, block < line", "GET / HTTP/1.1\r\nX: " + long(1500) + "\r\n\r\n", Limits{MaxHeaderBytes: 1000, MaxLineBytes: 2000}},
		{"header line over line", "GET / HTTP/1.1\r\nX: " + long(1500) + "\r\n\r\n", Limits{MaxHeaderBytes: 4000, MaxLineBytes: 1000}},
		{"fits", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", Limits{MaxHeaderBytes: 100, MaxLineBytes: 200}},
		{"defaults, long request line", "GET /" + long(5000) + " HTTP/1.1\r\n\r\n", Limits{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			buf := []byte(tc.req)
			wantN, want := ParseRequest(buf, NewRequest(), &tc.lim)
			for n := 1; n <= len(buf); n++ {
				gotN, err := ParseRequest(buf[:n], NewRequest(), &tc.lim)
				if err == ErrNeedMore {
					continue
				}
				if err != want || (err == nil && gotN != wantN) {
					t.Fatalf("prefix of %d bytes: %d, %v; whole: %d, %v", n, gotN, err, wantN, want)
				}
				return
			}
			if want != ErrNeedMore {
				t.Fatalf("every prefix needs more; whole: %v", want)
			}
		})
	}
}
