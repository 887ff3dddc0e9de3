package upgrade

import "bytes"

// Default limits of the header scanners.
const (
	DefaultMaxHeaderBytes = 8 << 10 // whole block: request line, fields, final CRLF
	DefaultMaxHeaders     = 64
	DefaultMaxLineBytes   = 4 << 10 // one line including its CRLF
)

// Limits bounds what the request and response scanners accept. The zero value,
// and a zero field, mean the defaults above.
type Limits struct {
	// MaxHeaderBytes caps the header block; a longer block is answered 431.
	MaxHeaderBytes int
	// MaxHeaders caps the number of header fields; more are answered 431.
	MaxHeaders int
	// MaxLineBytes caps one line: a longer request line is answered 414, a longer
	// header line 431. Raise it (and MaxHeaderBytes) for clients with large cookies.
	// A value above MaxHeaderBytes counts as MaxHeaderBytes.
	MaxLineBytes int
}

// Hard ceilings: field indexes are int16 and offsets uint32.
const (
	maxFieldsCap = 1 << 14
	maxBlockCap  = 1 << 30
)

func (l *Limits) values() (block, headers, line int) {
	block, headers, line = DefaultMaxHeaderBytes, DefaultMaxHeaders, DefaultMaxLineBytes
	if l != nil {
		if l.MaxHeaderBytes > 0 {
			block = min(l.MaxHeaderBytes, maxBlockCap)
		}
		if l.MaxHeaders > 0 {
			headers = min(l.MaxHeaders, maxFieldsCap)
		}
		if l.MaxLineBytes > 0 {
			line = l.MaxLineBytes
		}
	}
	// No line is longer than the block that holds it: with the line limit
	// above the block's, an over-long line would be 431 or 414 depending on
	// where the reads cut it.
	line = min(line, block)
	return
}

// span is a half-open byte range of a scanned header block.
type span struct{ off, end uint32 }

// hdrID names the header fields the handshake itself reads, so checks find them
// without comparing names again.
type hdrID uint8

const (
	hOther hdrID = iota
	hHost
	hUpgrade
	hConnection
	hKey
	hVersion
	hProtocol
	hExtensions
	hOrigin
	hWSOrigin
	hAccept
	hContentLength
	hTransferEncoding
	numIDs
)

func lookupID(name string) hdrID {
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			return hHost
		}
	case 6:
		if equalFold(name, "origin") {
			return hOrigin
		}
	case 7:
		if equalFold(name, "upgrade") {
			return hUpgrade
		}
	case 10:
		if equalFold(name, "connection") {
			return hConnection
		}
	case 14:
		if equalFold(name, "content-length") {
			return hContentLength
		}
	case 17:
		if equalFold(name, "sec-websocket-key") {
			return hKey
		}
		if equalFold(name, "transfer-encoding") {
			return hTransferEncoding
		}
	case 20:
		if equalFold(name, "sec-websocket-origin") {
			return hWSOrigin
		}
		if equalFold(name, "sec-websocket-accept") {
			return hAccept
		}
	case 21:
		if equalFold(name, "sec-websocket-version") {
			return hVersion
		}
	case 22:
		if equalFold(name, "sec-websocket-protocol") {
			return hProtocol
		}
	case 24:
		if equalFold(name, "sec-websocket-extensions") {
			return hExtensions
		}
	}
	return hOther
}

type field struct {
	name, value span
	id          hdrID
}

// block is the part shared by Request and Response: the header block bytes and
// an index of its fields. Everything points into buf.
type block struct {
	buf    []byte
	fields []field
	first  [numIDs]int16 // index of the first field with each id, -1 if none
	count  [numIDs]uint8 // occurrences, saturating
}

func (b *block) reset() {
	b.buf = nil
	b.fields = b.fields[:0]
	for i := range b.first {
		b.first[i] = -1
		b.count[i] = 0
	}
}

func (b *block) str(s span) string { return bstr(b.buf[s.off:s.end]) }

// get returns the first value of a well-known field.
func (b *block) get(id hdrID) string {
	if i := b.first[id]; i >= 0 {
		return b.str(b.fields[i].value)
	}
	return ""
}

// header returns the first value of the named field, case-insensitively.
func (b *block) header(name string) (string, bool) {
	if id := lookupID(name); id != hOther {
		if i := b.first[id]; i >= 0 {
			return b.str(b.fields[i].value), true
		}
		return "", false
	}
	for _, f := range b.fields {
		if f.id == hOther && equalFold(b.str(f.name), name) {
			return b.str(f.value), true
		}
	}
	return "", false
}

// anyHasToken reports whether any field with id lists tok (RFC 7230 §7 lists may
// be split over several lines).
func (b *block) anyHasToken(id hdrID, tok string) bool {
	if b.first[id] < 0 {
		return false
	}
	for _, f := range b.fields[b.first[id]:] {
		if f.id == id && hasToken(b.str(f.value), tok) {
			return true
		}
	}
	return false
}

// scanLines walks the header block line by line from start (just after the first
// line) and returns the offset just past the empty line that ends it. It enforces
// CRLF line ends and the caps before the block is complete, so a client dripping
// garbage is refused early; while the block is incomplete it returns ErrNeedMore.
// Cost is one IndexByte per line.
func scanLines(buf []byte, start, maxBlock, maxFields, maxLine int) (int, error) {
	fields := 0
	for {
		// Look no further than one line's cap: a huge read of garbage costs
		// no more than a long line.
		lim := min(len(buf), start+maxLine)
		i := bytes.IndexByte(buf[start:lim], '\n')
		if i < 0 {
			// The partial line still needs at least its '\n'. Of the two
			// caps, the one the stream reaches first answers, so that the
			// answer does not depend on how reads cut the request.
			if start+maxLine > maxBlock && len(buf) >= maxBlock {
				return 0, ErrHeaderTooLarge
			}
			if lim-start >= maxLine {
				return 0, ErrLineTooLong
			}
			if len(buf)+1 > maxBlock {
				return 0, ErrHeaderTooLarge
			}
			return 0, ErrNeedMore
		}
		end := start + i + 1
		if end > maxBlock {
			// The block's cap came before this line's end in the stream:
			// a read cut there answers so, whatever the line's bytes.
			return 0, ErrHeaderTooLarge
		}
		if i == 0 || buf[start+i-1] != '\r' {
			return 0, ErrMalformed // bare LF: we accept CRLF only (RFC 7230 §3)
		}
		if i == 1 {
			return end, nil
		}
		if fields++; fields > maxFields {
			return 0, ErrTooManyHeaders
		}
		start = end
	}
}

// parseFields indexes the header lines of a complete block, buf[pos:end] ending
// with the empty line. scanLines has already checked the line ends.
func (b *block) parseFields(pos, end int) error {
	buf := b.buf
	for pos < end {
		le := pos + bytes.IndexByte(buf[pos:end], '\n') - 1 // the '\r'
		if le == pos {
			return nil
		}
		line := buf[pos:le]
		if isOWS(line[0]) {
			return ErrMalformed // obs-fold, RFC 7230 §3.2.4 lets us refuse it
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return ErrMalformed
		}
		for _, c := range line[:colon] {
			if class[c]&cTchar == 0 {
				return ErrMalformed
			}
		}
		vs, ve := colon+1, len(line)
		for vs < ve && isOWS(line[vs]) {
			vs++
		}
		for ve > vs && isOWS(line[ve-1]) {
			ve--
		}
		for _, c := range line[vs:ve] {
			if class[c]&cField == 0 {
				return ErrMalformed
			}
		}
		id := lookupID(bstr(line[:colon]))
		if b.first[id] < 0 {
			b.first[id] = int16(len(b.fields))
		}
		if b.count[id] < 255 {
			b.count[id]++
		}
		b.fields = append(b.fields, field{
			name:  span{uint32(pos), uint32(pos + colon)},
			value: span{uint32(pos + vs), uint32(pos + ve)},
			id:    id,
		})
		pos = le + 2
	}
	return nil
}

// checkFraming refuses the message framing that RFC 7230 §3.3.3 makes an
// unrecoverable error, and a little more, as net/http does against request
// smuggling: every Content-Length must be the same non-negative decimal, and
// Transfer-Encoding may only be one "chunked" line.
func (b *block) checkFraming() error {
	if i := b.first[hContentLength]; i >= 0 {
		first := b.str(b.fields[i].value)
		if first == "" || len(first) > 18 {
			return ErrMalformed
		}
		for j := 0; j < len(first); j++ {
			if first[j] < '0' || first[j] > '9' {
				return ErrMalformed
			}
		}
		for _, f := range b.fields[i+1:] {
			if f.id == hContentLength && b.str(f.value) != first {
				return ErrMalformed
			}
		}
	}
	if b.count[hTransferEncoding] > 1 || b.count[hTransferEncoding] == 1 && !equalFold(b.get(hTransferEncoding), "chunked") {
		return ErrMalformed
	}
	return nil
}
