package tlsrec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"hash"
	"math"
)

// Record layer sizes (RFC 8446 §5.1, §5.2).
const (
	HeaderLen     = 5           // outer record header
	MaxPlaintext  = 1 << 14     // content bytes per record
	MaxCiphertext = 1<<14 + 256 // outer length limit
	tagLen        = 16          // AES-GCM tag
	Overhead      = 1 + tagLen  // inner content type + tag, as sealed here (no padding)
	maxInner      = MaxPlaintext + 1

	typeAlert     = 21
	typeHandshake = 22
	typeAppData   = 23

	hsNewSessionTicket = 4
	hsKeyUpdate        = 24
)

// AutoUpdateRecords is the number of records a Writer seals under one key
// before it sends a KeyUpdate by itself: RFC 8446 §5.5 limits AES-GCM to
// 2^24.5 full-size records per key.
const AutoUpdateRecords = 1 << 24

// Keys are one direction's traffic keying state at the hand-off from the
// handshake: the negotiated suite, the application traffic secret
// (RFC 8446 §7.1) and the next sequence number.
type Keys struct {
	Suite  uint16 // tls.TLS_AES_128_GCM_SHA256 or tls.TLS_AES_256_GCM_SHA384
	Secret []byte // copied by NewReader / NewWriter
	Seq    uint64
}

// Supported reports whether the record layer runs suite.
func Supported(suite uint16) bool {
	return suite == tls.TLS_AES_128_GCM_SHA256 || suite == tls.TLS_AES_256_GCM_SHA384
}

// trafficKey is one direction's AEAD state. nonce and ad live here, not on the
// stack: slices passed to the cipher.AEAD interface escape, and this keeps the
// per-record path free of allocations.
type trafficKey struct {
	suite  uint16
	hash   func() hash.Hash
	secret []byte
	aead   cipher.AEAD
	iv     [12]byte
	seq    uint64
	nonce  [12]byte
	ad     [HeaderLen]byte
}

func newTrafficKey(k Keys) (*trafficKey, error) {
	t := &trafficKey{suite: k.Suite, seq: k.Seq}
	switch k.Suite {
	case tls.TLS_AES_128_GCM_SHA256:
		t.hash = sha256.New
	case tls.TLS_AES_256_GCM_SHA384:
		t.hash = sha512.New384
	default:
		return nil, ErrUnsupportedSuite
	}
	if len(k.Secret) != t.hash().Size() {
		return nil, ErrUnsupportedSuite
	}
	if err := t.set(append([]byte(nil), k.Secret...)); err != nil {
		return nil, err
	}
	t.seq = k.Seq
	return t, nil
}

// set installs secret: key and iv by HKDF-Expand-Label (RFC 8446 §7.3),
// sequence number back to 0.
func (t *trafficKey) set(secret []byte) error {
	keyLen := 16
	if t.suite == tls.TLS_AES_256_GCM_SHA384 {
		keyLen = 32
	}
	key, err := expandLabel(t.hash, secret, "key", keyLen)
	if err != nil {
		return err
	}
	iv, err := expandLabel(t.hash, secret, "iv", 12)
	if err != nil {
		return err
	}
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	clear(t.secret)
	t.secret, t.aead, t.seq = secret, aead, 0
	copy(t.iv[:], iv)
	return nil
}

// update moves to the next application traffic secret (RFC 8446 §7.2):
// secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
func (t *trafficKey) update() error {
	next, err := expandLabel(t.hash, t.secret, "traffic upd", len(t.secret))
	if err != nil {
		return err
	}
	return t.set(next)
}

// next computes the nonce of the current record (RFC 8446 §5.3: the 64-bit
// sequence number, big-endian, left-padded to the IV length, XORed with the
// IV) and advances the sequence number, which never reaches 2^64-1.
func (t *trafficKey) next() ([]byte, error) {
	if t.seq >= math.MaxUint64-1 {
		return nil, ErrSeqExhausted
	}
	t.nonce = t.iv
	for i := 0; i < 8; i++ {
		t.nonce[4+i] ^= byte(t.seq >> (56 - 8*i))
	}
	t.seq++
	return t.nonce[:], nil
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, length int) ([]byte, error) {
	info := make([]byte, 0, 4+6+len(label))
	info = append(info, byte(length>>8), byte(length), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0) // empty context
	return hkdf.Expand(h, secret, string(info), length)
}
