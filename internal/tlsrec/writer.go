package tlsrec

import (
	"errors"
	"slices"
)

// Writer is the send side of a TLS 1.3 connection after the handshake. It is
// owned by one context (whoever holds the connection's write lock). The
// records sealed under the current key are its sequence number (§5.3: it
// restarts at 0 with each key), so the automatic KeyUpdate needs no count of
// its own.
type Writer struct {
	k trafficKey // k.flags&kClosed: the Writer seals nothing more (after an alert or a failed KeyUpdate)
}

// SetAutoUpdate sets the number of records sealed under one key before the
// Writer precedes the next record with a KeyUpdate of its own; 0 means
// AutoUpdateRecords (32 bits: §5.5's limit for AES-GCM is 2^24.5). It is
// kept in the key's rare part (tests set it; the default costs nothing).
func (w *Writer) SetAutoUpdate(n uint32) {
	if n != 0 || w.k.rare() != nil {
		w.k.keep().autoUpdate = n
	}
}

// NewWriter returns a Writer for this side's traffic keys.
func NewWriter(k Keys) (*Writer, error) {
	w := &Writer{}
	if err := w.k.init(k); err != nil {
		return nil, err
	}
	return w, nil
}

// SealedLen is the number of bytes AppendSeal appends for n bytes of
// application data (without an automatic KeyUpdate).
func SealedLen(n int) int {
	if n == 0 {
		return 0
	}
	recs := (n + MaxPlaintext - 1) / MaxPlaintext
	return n + recs*(HeaderLen+Overhead)
}

// AppendSeal appends p, sealed as application_data records of at most 2^14
// bytes each, to dst and returns the extended slice. p must not overlap
// dst[len(dst):cap(dst)]. When dst has room nothing is allocated.
func (w *Writer) AppendSeal(dst, p []byte) ([]byte, error) {
	return w.AppendSeal2(dst, p, nil)
}

// AppendSeal2 is AppendSeal of a followed by b, as if they were one slice: a
// WebSocket frame header and its payload share their records (no record of
// its own for a 2-byte header). Neither may overlap dst[len(dst):cap(dst)].
func (w *Writer) AppendSeal2(dst, a, b []byte) ([]byte, error) {
	if w.k.flags&kClosed != 0 {
		return dst, ErrClosed
	}
	for len(a)+len(b) > 0 {
		if w.k.seq >= w.autoUpdate() {
			var err error
			if dst, err = w.AppendKeyUpdate(dst, false); err != nil {
				return dst, err
			}
		}
		na := min(len(a), MaxPlaintext)
		nb := min(len(b), MaxPlaintext-na)
		var err error
		if dst, err = w.seal2(dst, a[:na], b[:nb], typeAppData); err != nil {
			return dst, err
		}
		a, b = a[na:], b[nb:]
	}
	return dst, nil
}

func (w *Writer) autoUpdate() uint64 {
	if m := w.k.rare(); m != nil && m.autoUpdate != 0 {
		return uint64(m.autoUpdate)
	}
	return AutoUpdateRecords
}

// seal appends one record of content.
func (w *Writer) seal(dst, content []byte, typ byte) ([]byte, error) {
	return w.seal2(dst, content, nil, typ)
}

// seal2 appends one record: header, then content (a || b) || type encrypted
// in place (RFC 8446 §5.2), then the tag.
func (w *Writer) seal2(dst, a, b []byte, typ byte) ([]byte, error) {
	aead, err := w.k.aeadFor() // built again here after Relax dropped it
	if err != nil {
		return dst, err
	}
	nonce, err := w.k.next()
	if err != nil {
		return dst, err
	}
	cn := len(a) + len(b)
	n := cn + Overhead
	off := len(dst)
	dst = slices.Grow(dst, HeaderLen+n)[:off+HeaderLen+n]
	hdr := dst[off : off+HeaderLen]
	hdr[0], hdr[1], hdr[2], hdr[3], hdr[4] = typeAppData, 3, 3, byte(n>>8), byte(n)
	body := dst[off+HeaderLen:]
	copy(body[copy(body, a):], b)
	body[cn] = typ
	aead.Seal(body[:0], nonce, body[:cn+1], hdr) // the additional data is the header (§5.2), before body: never written

	return dst, nil
}

// AppendRecord appends content sealed as one record of inner content type
// typ, whatever it holds (at most MaxPlaintext bytes). The layers above send
// with AppendSeal, AppendKeyUpdate and the alerts; this is for their tests
// that play a peer sending what weir never sends, such as a NewSessionTicket
// cut across records.
func (w *Writer) AppendRecord(dst []byte, typ byte, content []byte) ([]byte, error) {
	if len(content) > MaxPlaintext {
		return dst, errors.New("tlsrec: record content over 2^14 bytes")
	}
	return w.seal(dst, content, typ)
}

// AppendKeyUpdate appends a KeyUpdate (RFC 8446 §4.6.3), sealed under the
// current key, and moves the send side to the next traffic secret. With
// requestUpdate the peer must answer with its own; Reader handles it.
func (w *Writer) AppendKeyUpdate(dst []byte, requestUpdate bool) ([]byte, error) {
	if w.k.flags&kClosed != 0 {
		return dst, ErrClosed
	}
	var req byte
	if requestUpdate {
		req = 1
	}
	msg := [5]byte{hsKeyUpdate, 0, 0, 1, req}
	dst, err := w.seal(dst, msg[:], typeHandshake)
	if err != nil {
		return dst, err
	}
	if err := w.k.update(); err != nil {
		w.k.flags |= kClosed
		return dst, err
	}
	return dst, nil
}

// AppendCloseNotify appends a close_notify alert (RFC 8446 §6.1); the Writer
// seals nothing after it.
func (w *Writer) AppendCloseNotify(dst []byte) ([]byte, error) {
	return w.alert(dst, 1, AlertCloseNotify)
}

// AppendAlert appends a fatal alert with code (see AlertToSend); the Writer
// seals nothing after it.
func (w *Writer) AppendAlert(dst []byte, code uint8) ([]byte, error) {
	return w.alert(dst, 2, code)
}

func (w *Writer) alert(dst []byte, level, code uint8) ([]byte, error) {
	if w.k.flags&kClosed != 0 {
		return dst, ErrClosed
	}
	msg := [2]byte{level, code}
	dst, err := w.seal(dst, msg[:], typeAlert)
	w.k.flags |= kClosed
	return dst, err
}
