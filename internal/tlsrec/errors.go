package tlsrec

import (
	"errors"
	"fmt"
)

// Alert descriptions used by this package (RFC 8446 §6.2).
const (
	AlertCloseNotify       uint8 = 0
	AlertUnexpectedMessage uint8 = 10
	AlertBadRecordMAC      uint8 = 20
	AlertRecordOverflow    uint8 = 22
	AlertIllegalParameter  uint8 = 47
	AlertDecodeError       uint8 = 50
	AlertProtocolVersion   uint8 = 70
	AlertInternalError     uint8 = 80
)

var (
	// ErrUnsupportedSuite is returned for a cipher suite the record layer does
	// not run: TLS_CHACHA20_POLY1305_SHA256 (the main module may not import
	// golang.org/x/crypto, and the standard library exports no ChaCha20-Poly1305)
	// and anything that is not TLS 1.3. The caller keeps the connection in
	// goroutine mode with its tls.Conn.
	ErrUnsupportedSuite = errors.New("tlsrec: cipher suite not supported on the event loop")

	// ErrSeqExhausted is returned when a key's sequence number would reach
	// 2^64-1 (RFC 8446 §5.3: it must not wrap). The caller closes the
	// connection. A Writer updates its key long before (AutoUpdateRecords).
	ErrSeqExhausted = errors.New("tlsrec: record sequence number exhausted")

	// ErrClosed is returned by a Writer after it sealed a close_notify or a
	// fatal alert: nothing may follow either (RFC 8446 §6).
	ErrClosed = errors.New("tlsrec: write side closed")
)

// AlertError is a TLS alert: one the peer sent (Remote) or one this side must
// send before closing (not Remote). errors.As finds it.
type AlertError struct {
	Code   uint8  // alert description (RFC 8446 §6.2)
	Remote bool   // the peer sent it: send nothing back
	Reason string // what was wrong, for logs (local alerts only)
}

func (e *AlertError) Error() string {
	if e.Remote {
		return fmt.Sprintf("tlsrec: remote alert %d", e.Code)
	}
	return fmt.Sprintf("tlsrec: local alert %d: %s", e.Code, e.Reason)
}

// AlertToSend reports the alert the caller must seal (Writer.AppendAlert) and
// write before closing after err, and whether there is one: a local
// AlertError has one; a remote alert, io.EOF (close_notify) and other errors
// have none.
func AlertToSend(err error) (uint8, bool) {
	var ae *AlertError
	if errors.As(err, &ae) && !ae.Remote {
		return ae.Code, true
	}
	return 0, false
}

func local(code uint8, reason string) error {
	return &AlertError{Code: code, Reason: reason}
}
