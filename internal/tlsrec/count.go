package tlsrec

// CountOpened counts the records of stream (whole records, as written on the
// wire) that open under k, starting at sequence k.Seq: the records sealed
// under another key (the handshake's) before them fail and are skipped, and
// after the first that opens every later protected record must open too. The
// handshake package uses it to learn how many records crypto/tls already
// sealed under the application key (its NewSessionTicket). stream is
// overwritten.
func CountOpened(k Keys, stream []byte) (uint64, error) {
	var t trafficKey
	if err := t.init(k); err != nil {
		return 0, err
	}
	n, err := t.countOpened(stream)
	t.drop()
	return n, err
}

// NewWriterAfter returns a Writer for k positioned after the records of
// stream that open under it, as counted by CountOpened (k.Seq is their first
// sequence number). The Writer keeps the AEAD the count built, so its first
// record (the handshake's next message) does not build another; it continues
// the count's sequence numbers, so no nonce repeats (RFC 8446 §5.3).
func NewWriterAfter(k Keys, stream []byte) (*Writer, error) {
	w := &Writer{}
	if err := w.k.init(k); err != nil {
		return nil, err
	}
	if _, err := w.k.countOpened(stream); err != nil {
		w.k.drop()
		return nil, err
	}
	return w, nil
}

// countOpened is CountOpened on t, which it advances past the records that
// open.
func (t *trafficKey) countOpened(stream []byte) (uint64, error) {
	var n uint64
	for len(stream) >= HeaderLen {
		l := int(stream[3])<<8 | int(stream[4])
		if len(stream) < HeaderLen+l {
			return n, local(AlertDecodeError, "partial record in stream")
		}
		rec := stream[:HeaderLen+l]
		stream = stream[HeaderLen+l:]
		if rec[0] != typeAppData || l < tagLen {
			if n > 0 {
				return n, local(AlertUnexpectedMessage, "unprotected record after protected ones")
			}
			continue
		}
		aead, err := t.aeadFor()
		if err != nil {
			return n, err
		}
		seq := t.seq
		nonce, err := t.next()
		if err != nil {
			return n, err
		}
		if _, err := aead.Open(rec[HeaderLen:HeaderLen], nonce, rec[HeaderLen:], rec[:HeaderLen]); err != nil {
			if n > 0 {
				return n, local(AlertBadRecordMAC, "record after protected ones does not open")
			}
			t.seq = seq
			continue
		}
		n++
	}
	if len(stream) != 0 {
		return n, local(AlertDecodeError, "partial record in stream")
	}
	return n, nil
}
