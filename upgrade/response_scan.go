package upgrade

import (
	"iter"
	"net/http"
	"strconv"
)

// Response is a view of a scanned handshake response, the client's counterpart
// of Request. The zero value is ready; it can be reused. Strings and slices it
// returns alias the scanned buffer.
type Response struct {
	hb           block
	status       int
	reason       span
	major, minor uint8
	parsed       bool
	exts         []ExtensionOffer
	params       []ExtensionParam
}

func (r *Response) reset() {
	r.hb.reset()
	r.status, r.reason, r.major, r.minor, r.parsed = 0, span{}, 0, 0, false
	clear(r.exts)
	r.exts = r.exts[:0]
	clear(r.params)
	r.params = r.params[:0]
}

// statusLine checks HTTP-version SP 3DIGIT [SP reason-phrase] (RFC 7230 §3.1.2),
// as a prefix when !complete. The reason phrase may be missing, as servers in
// the wild send "HTTP/1.1 101".
func statusLine(line []byte, complete bool) (major, minor uint8, status int, reason span, err error) {
	v := line
	if len(v) > 8 {
		v = v[:8]
	}
	if major, minor, err = httpVersion(v, complete || len(line) > 8); err != nil {
		return
	}
	if len(line) <= 8 {
		if complete {
			err = ErrMalformed
		}
		return
	}
	if line[8] != ' ' {
		return 0, 0, 0, reason, ErrMalformed
	}
	code := line[9:min(len(line), 12)]
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, 0, 0, reason, ErrMalformed
		}
	}
	if len(code) < 3 {
		if complete {
			err = ErrMalformed
		}
		return
	}
	status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	if len(line) > 12 {
		if line[12] != ' ' {
			return 0, 0, 0, reason, ErrMalformed
		}
		for _, c := range line[13:] {
			if class[c]&cField == 0 {
				return 0, 0, 0, reason, ErrMalformed
			}
		}
		reason = span{13, uint32(len(line))}
	}
	return
}

// ParseResponse scans a handshake response header block from the front of buf
// into resp, with the same incremental contract and caps as ParseRequest: it
// returns ErrNeedMore until the block ends, then the block's length; bytes after
// it are frames (or a rejection's body). Syntax errors are ErrMalformedResponse,
// a block over lim is ErrResponseHeaderTooLarge. Check the result with
// ValidateResponse.
func ParseResponse(buf []byte, resp *Response, lim *Limits) (int, error) {
	resp.reset()
	maxBlock, maxFields, maxLine := lim.values()
	ll, next, err := firstLine(buf, maxLine, ErrResponseHeaderTooLarge)
	if err != nil {
		return 0, responseErr(err)
	}
	major, minor, status, reason, err := statusLine(buf[:ll], next != 0)
	if err != nil {
		return 0, responseErr(err)
	}
	if next == 0 {
		if len(buf)+1 > maxBlock {
			return 0, ErrResponseHeaderTooLarge
		}
		return 0, ErrNeedMore
	}
	end, err := scanLines(buf, next, maxBlock, maxFields, maxLine)
	if err != nil {
		return 0, responseErr(err)
	}
	resp.hb.buf = buf[:end]
	if err = resp.hb.parseFields(next, end); err == nil {
		err = resp.hb.checkFraming()
	}
	if err != nil {
		resp.reset()
		return 0, responseErr(err)
	}
	resp.major, resp.minor, resp.status, resp.reason, resp.parsed = major, minor, status, reason, true
	return end, nil
}

func responseErr(err error) error {
	switch err {
	case ErrNeedMore:
		return err
	case ErrMalformed:
		return ErrMalformedResponse
	}
	return ErrResponseHeaderTooLarge
}

// StatusCode returns the status code.
func (r *Response) StatusCode() int { return r.status }

// Reason returns the reason phrase.
func (r *Response) Reason() string { return r.hb.str(r.reason) }

// Proto returns the HTTP version of the status line.
func (r *Response) Proto() (major, minor int) { return int(r.major), int(r.minor) }

// Raw returns the header block as received.
func (r *Response) Raw() []byte { return r.hb.buf }

// Header returns the first value of the named header (case-insensitive).
func (r *Response) Header(name string) string {
	v, _ := r.hb.header(name)
	return v
}

// Headers yields every header line as (name as sent, value) in order.
func (r *Response) Headers() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, f := range r.hb.fields {
			if !yield(r.hb.str(f.name), r.hb.str(f.value)) {
				return
			}
		}
	}
}

// HTTPHeader copies the headers into a new http.Header (allocates), e.g. to read
// Set-Cookie from a 101 (ws's 'upgrade' event).
func (r *Response) HTTPHeader() http.Header {
	h := make(http.Header, len(r.hb.fields))
	for _, f := range r.hb.fields {
		k := http.CanonicalHeaderKey(string(r.hb.buf[f.name.off:f.name.end]))
		h[k] = append(h[k], string(r.hb.buf[f.value.off:f.value.end]))
	}
	return h
}

// bodyFraming says how a non-101 answer's body is delimited (RFC 7230 §3.3.3).
func (r *Response) bodyFraming() (length int64, chunked bool) {
	switch {
	case r.status < 200 || r.status == http.StatusNoContent || r.status == http.StatusNotModified:
		return 0, false
	case r.hb.anyHasToken(hTransferEncoding, "chunked"):
		return -1, true
	case r.hb.count[hContentLength] > 0:
		if n, err := strconv.ParseInt(r.hb.get(hContentLength), 10, 64); err == nil && n >= 0 {
			return n, false
		}
	}
	return -1, false
}
