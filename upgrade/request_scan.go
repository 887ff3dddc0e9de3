package upgrade

import (
	"bytes"
	"net/netip"
)

// httpVersion matches "HTTP/" DIGIT "." DIGIT (RFC 7230 §2.6) against a prefix
// when !complete, so a partial first line is checked as far as it goes.
func httpVersion(v []byte, complete bool) (major, minor uint8, err error) {
	const pat = "HTTP/#.#"
	if len(v) > len(pat) || complete && len(v) != len(pat) {
		return 0, 0, ErrMalformed
	}
	for i, c := range v {
		if pat[i] == '#' {
			if c < '0' || c > '9' {
				return 0, 0, ErrMalformed
			}
		} else if c != pat[i] {
			return 0, 0, ErrMalformed
		}
	}
	if complete {
		major, minor = v[5]-'0', v[7]-'0'
	}
	return major, minor, nil
}

// reqLine is a scanned request line.
type reqLine struct {
	method, target span // target: the path and query (all of it in origin-form)
	authority      span // of an absolute-form target
	absolute       bool
	major, minor   uint8
}

// requestLine checks method SP request-target SP HTTP-version (RFC 9112 §3).
// The target is origin-form, or absolute-form with an http or https URI
// (RFC 9112 §3.2.2: a server MUST accept it; RFC 6455 §4.2.1 allows "an
// absolute HTTP/HTTPS URI containing the /resource name/"). Path escapes must
// be well formed and '#' and non-ASCII bytes are refused. With !complete it
// checks a prefix and reports only what is already wrong.
func requestLine(line []byte, complete bool) (rl reqLine, err error) {
	i := 0
	for i < len(line) && line[i] != ' ' {
		if class[line[i]]&cTchar == 0 {
			return rl, ErrMalformed
		}
		i++
	}
	if i == len(line) {
		if complete {
			err = ErrMalformed
		}
		return
	}
	if i == 0 {
		return rl, ErrMalformed
	}
	rl.method = span{0, uint32(i)}
	i++
	if i < len(line) && line[i] != '/' {
		var p int
		var partial bool
		if rl.authority, p, partial, err = absolutePrefix(line, i); err != nil || partial {
			if partial && complete {
				err = ErrMalformed
			}
			return
		}
		rl.absolute = true
		i = p
	}
	j, query := i, false
	for ; j < len(line) && line[j] != ' '; j++ {
		c := line[j]
		switch {
		case j == i && c != '/' && !(rl.absolute && c == '?'):
			return rl, ErrMalformed
		case class[c]&cTarget == 0:
			return rl, ErrMalformed
		case c == '?':
			query = true
		case c == '%' && !query:
			for k := 1; k <= 2; k++ {
				if j+k >= len(line) {
					if complete {
						return rl, ErrMalformed
					}
					return
				}
				if class[line[j+k]]&cHex == 0 {
					return rl, ErrMalformed
				}
			}
			j += 2
		}
	}
	if j == len(line) {
		if complete {
			err = ErrMalformed
		}
		return
	}
	if j == i && !rl.absolute {
		return rl, ErrMalformed // no target: two spaces
	}
	rl.target = span{uint32(i), uint32(j)}
	rl.major, rl.minor, err = httpVersion(line[j+1:], complete)
	return
}

// absolutePrefix matches the start of an absolute-form target at line[i:]:
// "http://" or "https://" (the scheme in any case, RFC 3986 §3.1) and a
// non-empty authority of Host bytes (RFC 9110 §4.2.1: an http URI with an
// empty host is invalid). Userinfo is refused (RFC 9110 §4.2.4: a recipient
// SHOULD treat it as an error), as is every other scheme: ws and wss URIs
// name the connection the client opens, not the target of the HTTP request
// (RFC 6455 §4.1 sends their resource name). p is where the path or query
// starts; partial says line ended before it (the prefix so far is good).
func absolutePrefix(line []byte, i int) (auth span, p int, partial bool, err error) {
	const pat = "https://"
	for k := 0; k < len(pat); k++ {
		if i == len(line) {
			return auth, 0, true, nil
		}
		if c := lower(line[i]); c != pat[k] {
			if k == 4 && c == ':' {
				continue // "http:": the same byte goes on against pat[5]
			}
			return auth, 0, false, ErrMalformed
		}
		i++
	}
	a := i
	for ; i < len(line) && line[i] != '/' && line[i] != '?' && line[i] != ' '; i++ {
		if class[line[i]]&cHost == 0 || line[i] == '%' {
			return auth, 0, false, ErrMalformed // '@' (userinfo) and '#' among them
		}
	}
	if i == len(line) {
		return auth, 0, true, nil
	}
	if !validAuthority(line[a:i]) {
		return auth, 0, false, ErrMalformed
	}
	return span{uint32(a), uint32(i)}, i, false, nil
}

// validAuthority checks host [":" port] of an absolute-form target (RFC 3986
// §3.2.2, §3.2.3): an IPv6 literal in brackets or a non-empty reg-name or
// IPv4 address (unreserved and sub-delims; no percent-encoding, which no
// WebSocket host needs), then digits for the port, possibly none.
func validAuthority(a []byte) bool {
	host, port := a, []byte(nil)
	if i := bytes.LastIndexByte(a, ':'); i >= 0 && bytes.IndexByte(a[i:], ']') < 0 {
		host, port = a[:i], a[i+1:]
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		ip, err := netip.ParseAddr(bstr(host[1 : len(host)-1]))
		return err == nil && ip.Is6() && ip.Zone() == ""
	}
	if len(host) == 0 {
		return false
	}
	for _, c := range host {
		if c == ':' || c == '[' || c == ']' {
			return false
		}
	}
	return true // the bytes passed cHost without '%' in absolutePrefix
}

// firstLine finds the first line of buf: its length without CRLF and the offset
// of the next line, or next == 0 when the line is not complete yet.
func firstLine(buf []byte, maxLine int, tooLong error) (lineLen, next int, err error) {
	lim := buf
	if len(lim) > maxLine {
		lim = lim[:maxLine]
	}
	i := bytes.IndexByte(lim, '\n')
	if i < 0 {
		if len(buf) >= maxLine {
			return 0, 0, tooLong
		}
		if n := len(buf); n > 0 && buf[n-1] == '\r' {
			return n - 1, 0, nil // the LF is still on its way
		}
		return len(buf), 0, nil
	}
	if i == 0 || buf[i-1] != '\r' {
		return 0, 0, ErrMalformed
	}
	return i - 1, i + 1, nil
}

// ParseRequest scans an HTTP/1.1 request header block from the front of buf into
// req, checking syntax and lim (nil means defaults). It returns the length of the
// block; bytes after it already belong to the WebSocket stream (ws's `head`).
// Until the block is complete it returns ErrNeedMore, or an error as soon as what
// has arrived is malformed or over a limit. Errors are *CheckError sentinels
// carrying the status to answer with ([AppendError]).
//
// The RFC 6455 checks (method, Upgrade, key, ...) run in [Upgrader.Handshake],
// not here. req aliases buf on success.
func ParseRequest(buf []byte, req *Request, lim *Limits) (int, error) {
	req.reset()
	maxBlock, maxFields, maxLine := lim.values()
	ll, next, err := firstLine(buf, maxLine, ErrRequestLineTooLong)
	if err == ErrRequestLineTooLong {
		// What a read cut short of the limit would have checked as a partial
		// line is checked first, so that a request ends the same however the
		// reads cut it: a bad byte before the limit is 400, not 414.
		if pl, _, _ := firstLine(buf[:maxLine-1], maxLine, err); pl > 0 {
			if _, perr := requestLine(buf[:pl], false); perr != nil {
				return 0, perr
			}
		}
		return 0, err
	}
	if err != nil {
		return 0, err
	}
	rl, err := requestLine(buf[:ll], next != 0)
	if err != nil {
		return 0, err
	}
	if next == 0 {
		if len(buf)+1 > maxBlock {
			return 0, ErrHeaderTooLarge
		}
		return 0, ErrNeedMore
	}
	end, err := scanLines(buf, next, maxBlock, maxFields, maxLine)
	if err != nil {
		return 0, err
	}
	req.hb.buf = buf[:end]
	if err = req.hb.parseFields(next, end); err == nil {
		err = req.hb.checkFraming()
	}
	if err != nil {
		req.reset()
		return 0, err
	}
	req.method, req.target, req.major, req.minor = rl.method, rl.target, rl.major, rl.minor
	req.authority, req.absolute = rl.authority, rl.absolute
	req.parsed = true
	return end, nil
}
