package upgrade

import "bytes"

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

// requestLine checks method SP request-target SP HTTP-version (RFC 7230 §3.1.1).
// Only origin-form targets are accepted (RFC 6455 §4.1 sends a resource name);
// path escapes must be well formed and '#' and non-ASCII bytes are refused.
// With !complete it checks a prefix and reports only what is already wrong.
func requestLine(line []byte, complete bool) (method, target span, major, minor uint8, err error) {
	i := 0
	for i < len(line) && line[i] != ' ' {
		if class[line[i]]&cTchar == 0 {
			return method, target, 0, 0, ErrMalformed
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
		return method, target, 0, 0, ErrMalformed
	}
	method = span{0, uint32(i)}
	i++
	j, query := i, false
	for ; j < len(line) && line[j] != ' '; j++ {
		c := line[j]
		switch {
		case j == i && c != '/':
			return method, target, 0, 0, ErrMalformed
		case class[c]&cTarget == 0:
			return method, target, 0, 0, ErrMalformed
		case c == '?':
			query = true
		case c == '%' && !query:
			for k := 1; k <= 2; k++ {
				if j+k >= len(line) {
					if complete {
						return method, target, 0, 0, ErrMalformed
					}
					return
				}
				if class[line[j+k]]&cHex == 0 {
					return method, target, 0, 0, ErrMalformed
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
	if j == i {
		return method, target, 0, 0, ErrMalformed
	}
	target = span{uint32(i), uint32(j)}
	major, minor, err = httpVersion(line[j+1:], complete)
	return
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
			if _, _, _, _, perr := requestLine(buf[:pl], false); perr != nil {
				return 0, perr
			}
		}
		return 0, err
	}
	if err != nil {
		return 0, err
	}
	method, target, major, minor, err := requestLine(buf[:ll], next != 0)
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
	req.method, req.target, req.major, req.minor = method, target, major, minor
	req.parsed = true
	return end, nil
}
