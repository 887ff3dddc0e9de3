package tlsrec

import (
	"io"
)

// maxHandshakeMsg bounds a post-handshake message being reassembled across
// records (crypto/tls uses the same 64 KiB).
const maxHandshakeMsg = 1 << 16

// maxUselessMessages is how many post-handshake messages in a row, with no
// application data between them, a Reader takes; one more is an
// unexpected_message. Each KeyUpdate costs a key derivation and a new AES-GCM
// (BenchmarkRebuild) for 27 bytes on the wire: a flood of them would cost the
// receiver far more than the sender. crypto/tls allows 16 as well
// (maxUselessRecords), so a peer that works with it works here.
const maxUselessMessages = 16

// ReaderOptions are the receive side's options; the zero value is a server.
type ReaderOptions struct {
	// Client marks the client side: NewSessionTicket (RFC 8446 §4.6.1) is
	// accepted and handed to OnSessionTicket. On the server side one is an
	// unexpected_message.
	Client bool
	// OnSessionTicket receives each NewSessionTicket message, whole with its
	// 4-byte handshake header, on the client side. The slice is valid only
	// during the call. nil: tickets are dropped. Called from Open, on the
	// reading context.
	OnSessionTicket func(msg []byte)
}

// Reader is the receive side of a TLS 1.3 connection after the handshake. It
// is owned by one context (the one reading the connection). What it needs
// only sometimes (a message cut across records, the sticky error, the
// ticket callback) is in its key's rare part, made on first need: a Reader
// lives in every idle connection, and that part is nil in nearly all of
// them.
type Reader struct {
	k trafficKey // k.flags&kClient: ReaderOptions.Client
}

// pendingHS is the post-handshake message cut across records, nil if none.
func (r *Reader) pendingHS() *[]byte {
	if m := r.k.rare(); m != nil {
		return m.hs
	}
	return nil
}

// NewReader returns a Reader for the peer's traffic keys.
func NewReader(k Keys, opt ReaderOptions) (*Reader, error) {
	r := &Reader{}
	if err := r.k.init(k); err != nil {
		return nil, err
	}
	if opt.Client {
		r.k.flags |= kClient
	}
	if opt.OnSessionTicket != nil {
		r.k.keep().onTicket = opt.OnSessionTicket
	}
	return r, nil
}

// Record is what Open found at the front of its buffer.
type Record struct {
	// N is the number of bytes of the buffer the record took; 0 means the
	// buffer does not hold a whole record yet: call again with more bytes.
	N int
	// Data is the record's application data, a slice of the buffer
	// (decrypted in place); empty for other records.
	Data []byte
	// UpdateRequested is set when the record carried a KeyUpdate with
	// update_requested: the caller must seal Writer.AppendKeyUpdate(dst,
	// false) before its next application data record (RFC 8446 §4.6.3).
	UpdateRequested bool
}

// Open takes the record at the front of buf, which starts on a record
// boundary. It checks the header as soon as its 5 bytes are there, before the
// body arrives and before any arithmetic on the length; once the record is
// whole it decrypts it in place. It returns io.EOF after a close_notify, a
// remote *AlertError after any other alert, a local *AlertError (whose alert
// the caller must send, see AlertToSend) for a bad record; errors are sticky.
func (r *Reader) Open(buf []byte) (Record, error) {
	if m := r.k.rare(); m != nil && m.err != nil {
		return Record{}, m.err
	}
	rec, err := r.open(buf)
	if err != nil {
		m := r.k.keep()
		m.err = err
		m.hs = nil
	}
	return rec, err
}

func (r *Reader) open(buf []byte) (Record, error) {
	if len(buf) < HeaderLen {
		return Record{}, nil
	}
	// RFC 8446 §5.1, §5.2: after the handshake every record is protected
	// application_data with legacy_record_version 0x0303; a plaintext alert or
	// a change_cipher_spec here is unexpected.
	if buf[0] != typeAppData {
		return Record{}, local(AlertUnexpectedMessage, "unprotected record after the handshake")
	}
	if buf[1] != 3 || buf[2] != 3 {
		return Record{}, local(AlertProtocolVersion, "record version not 0x0303")
	}
	n := int(buf[3])<<8 | int(buf[4])
	if n > MaxCiphertext {
		return Record{}, local(AlertRecordOverflow, "record longer than 2^14+256")
	}
	if n < tagLen {
		return Record{}, local(AlertBadRecordMAC, "record shorter than its tag")
	}
	if len(buf) < HeaderLen+n {
		return Record{}, nil
	}
	rec := Record{N: HeaderLen + n}
	body := buf[HeaderLen : HeaderLen+n]
	aead, err := r.k.aeadFor() // built again here after Relax dropped it
	if err != nil {
		return Record{}, err
	}
	nonce, err := r.k.next()
	if err != nil {
		return Record{}, err
	}
	// The additional data is the header (§5.2), read in place: Open writes
	// only body.
	pt, err := aead.Open(body[:0], nonce, body, buf[:HeaderLen])
	if err != nil {
		return Record{}, local(AlertBadRecordMAC, "record authentication failed")
	}
	if len(pt) > maxInner {
		return Record{}, local(AlertRecordOverflow, "inner plaintext longer than 2^14+1")
	}
	// RFC 8446 §5.4: the content type is the last non-zero byte.
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return Record{}, local(AlertUnexpectedMessage, "record with no content type")
	}
	typ, content := pt[i], pt[:i]
	if typ != typeHandshake && r.pendingHS() != nil {
		// §5.1: handshake messages are not interleaved with other types.
		return Record{}, local(AlertUnexpectedMessage, "record inside a fragmented handshake message")
	}
	switch typ {
	case typeAppData:
		if len(content) > 0 {
			r.k.quiet = 0
		}
		rec.Data = content
		return rec, nil
	case typeAlert:
		// §5.1: an alert is alone in its record, never fragmented.
		if len(content) != 2 {
			return Record{}, local(AlertDecodeError, "alert record not 2 bytes")
		}
		if content[1] == AlertCloseNotify {
			return rec, io.EOF
		}
		// §6: every other alert ends the connection, whatever its level.
		return rec, &AlertError{Code: content[1], Remote: true}
	case typeHandshake:
		if len(content) == 0 {
			return Record{}, local(AlertUnexpectedMessage, "empty handshake record")
		}
		upd, err := r.handshake(content)
		rec.UpdateRequested = upd
		return rec, err
	default:
		return Record{}, local(AlertUnexpectedMessage, "unexpected record content type")
	}
}

// handshake processes the post-handshake messages of one record (RFC 8446
// §4.6), reassembling a message cut across records in more.hs, which grows only
// as bytes arrive and is bounded by maxHandshakeMsg.
func (r *Reader) handshake(content []byte) (bool, error) {
	data := content
	if hs := r.pendingHS(); hs != nil {
		if len(*hs)+len(content) > 4+maxHandshakeMsg+MaxPlaintext {
			return false, local(AlertDecodeError, "handshake message too long")
		}
		*hs = append(*hs, content...)
		data = *hs
	}
	upd := false
	for len(data) > 0 {
		if err := r.admit(data); err != nil {
			return false, err
		}
		if len(data) >= 4 {
			n := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
			if n > maxHandshakeMsg {
				return false, local(AlertDecodeError, "handshake message too long")
			}
			if len(data) >= 4+n {
				msg := data[:4+n]
				data = data[4+n:]
				if r.k.quiet++; r.k.quiet > maxUselessMessages {
					return false, local(AlertUnexpectedMessage, "too many post-handshake messages without application data")
				}
				var err error
				if upd, err = r.message(msg, len(data) == 0); err != nil {
					return false, err
				}
				continue
			}
		}
		// A message continues in the next record; keep its bytes.
		if hs := r.pendingHS(); hs == nil {
			b := append(make([]byte, 0, len(data)+64), data...)
			r.k.keep().hs = &b
		} else {
			*hs = (*hs)[:copy(*hs, data)]
		}
		return upd, nil
	}
	if m := r.k.rare(); m != nil {
		m.hs = nil
	}
	return upd, nil
}

// admit refuses a message from the start of it (data, at least its type
// byte) that message would refuse whole, before its bytes are kept across
// records: a server takes only KeyUpdate (RFC 8446 §4.6), a client also
// NewSessionTicket, and a KeyUpdate's body is one byte (§4.6.3). Otherwise a
// peer could make a server hold a 64 KiB message it will refuse anyway.
func (r *Reader) admit(data []byte) error {
	switch data[0] {
	case hsKeyUpdate:
		if len(data) >= 4 && (data[1] != 0 || data[2] != 0 || data[3] != 1) {
			return local(AlertDecodeError, "KeyUpdate not 1 byte")
		}
	case hsNewSessionTicket:
		if r.k.flags&kClient == 0 {
			return local(AlertUnexpectedMessage, "NewSessionTicket sent to a server")
		}
	default:
		return local(AlertUnexpectedMessage, "unexpected post-handshake message")
	}
	return nil
}

// message handles one whole post-handshake message; last tells whether it
// ends its record.
func (r *Reader) message(msg []byte, last bool) (bool, error) {
	switch msg[0] {
	case hsKeyUpdate:
		// §4.6.3: a one-byte KeyUpdateRequest; §5.1: a message before a key
		// change ends its record.
		if len(msg) != 5 {
			return false, local(AlertDecodeError, "KeyUpdate not 1 byte")
		}
		if !last {
			return false, local(AlertUnexpectedMessage, "KeyUpdate not at the end of its record")
		}
		if msg[4] > 1 {
			return false, local(AlertIllegalParameter, "KeyUpdate request not 0 or 1")
		}
		if err := r.k.update(); err != nil {
			return false, local(AlertInternalError, err.Error())
		}
		return msg[4] == 1, nil
	case hsNewSessionTicket:
		if r.k.flags&kClient == 0 {
			return false, local(AlertUnexpectedMessage, "NewSessionTicket sent to a server")
		}
		if m := r.k.rare(); m != nil && m.onTicket != nil {
			m.onTicket(msg)
		}
		return false, nil
	default:
		// Post-handshake authentication is never offered (crypto/tls does
		// not), so CertificateRequest is as unexpected as anything else.
		return false, local(AlertUnexpectedMessage, "unexpected post-handshake message")
	}
}

// Result is what Decrypt did to its buffer.
type Result struct {
	Plain int // buf[:Plain] is application data, in order
	Rest  int // buf[Plain:Plain+Rest] are the bytes of records not yet whole
	// UpdateRequested: see Record.UpdateRequested.
	UpdateRequested bool
}

// Decrypt opens every whole record at the front of buf in place and packs
// their application data at its front, followed by the bytes of the record
// not yet whole, which the caller keeps and extends with what it reads next.
// On an error, buf[:Plain] still holds the authenticated data of the records
// before the failing one, to be delivered before the error.
func (r *Reader) Decrypt(buf []byte) (Result, error) {
	var res Result
	off := 0
	for {
		rec, err := r.Open(buf[off:])
		if rec.UpdateRequested {
			res.UpdateRequested = true
		}
		if len(rec.Data) > 0 {
			res.Plain += copy(buf[res.Plain:], rec.Data)
		}
		off += rec.N
		if err != nil {
			return res, err
		}
		if rec.N == 0 {
			break
		}
	}
	res.Rest = copy(buf[res.Plain:], buf[off:])
	return res, nil
}

// Pending reports whether the Reader holds a post-handshake message cut
// across records (and so memory).
func (r *Reader) Pending() bool { return r.pendingHS() != nil }

// PendingSize is the capacity of the buffer that holds a post-handshake
// message cut across records, 0 when none: inbound bytes a peer makes the
// Reader keep (up to about 80 KiB of a NewSessionTicket on a client), for
// the caller's inbound budget.
func (r *Reader) PendingSize() int {
	if hs := r.pendingHS(); hs != nil {
		return cap(*hs)
	}
	return 0
}

// DropPending lets go of a post-handshake message cut across records. The
// Reader must open nothing more: the rest of that message would be read as
// the start of another.
func (r *Reader) DropPending() {
	if m := r.k.rare(); m != nil {
		m.hs = nil
	}
}
