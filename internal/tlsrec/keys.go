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

// trafficKey is one direction's keying state. What a record needs between
// records is small and kept: the secret (for KeyUpdate), the key, the IV and
// the sequence number, inline in this one struct. The AEAD built from the key
// (AES key schedules and the GHASH table, about 0.9 KB) is a cache: built at
// the first record that needs it (aeadFor) and dropped by drop when the
// direction goes idle (Reader.Relax, Writer.Relax). Dropping touches neither
// the key nor seq, so a rebuilt AEAD continues the same nonce sequence
// (RFC 8446 §5.3): no nonce is ever used twice under one key, across any
// number of drops. nonce and ad live here, not on the stack: slices passed to
// the cipher.AEAD interface escape, and this keeps the per-record path free of
// allocations.
type trafficKey struct {
	suite  uint16
	keyLen uint8
	secLen uint8
	secret [48]byte // secret[:secLen]: this key's traffic secret (§7.1)
	key    [32]byte // key[:keyLen] = HKDF-Expand-Label(secret, "key", "", keyLen) (§7.3)
	iv     [12]byte
	seq    uint64
	aead   cipher.AEAD // nil until needed and after drop
	nonce  [12]byte
	ad     [HeaderLen]byte
}

// init sets t up for k, copying the secret; no AEAD is built yet.
func (t *trafficKey) init(k Keys) error {
	*t = trafficKey{suite: k.Suite}
	switch k.Suite {
	case tls.TLS_AES_128_GCM_SHA256:
		t.keyLen = 16
	case tls.TLS_AES_256_GCM_SHA384:
		t.keyLen = 32
	default:
		return ErrUnsupportedSuite
	}
	if len(k.Secret) != t.hash().Size() {
		return ErrUnsupportedSuite
	}
	if err := t.set(k.Secret); err != nil {
		return err
	}
	t.seq = k.Seq
	return nil
}

// hash is the suite's hash (RFC 8446 B.4).
func (t *trafficKey) hash() hash.Hash {
	if t.suite == tls.TLS_AES_256_GCM_SHA384 {
		return sha512.New384()
	}
	return sha256.New()
}

// set installs secret (copied): key and iv by HKDF-Expand-Label (RFC 8446
// §7.3), sequence number back to 0, and the AEAD of the old key dropped, so
// that nothing is ever sealed or opened under the old key again.
func (t *trafficKey) set(secret []byte) error {
	key, err := expandLabel(t.hash, secret, "key", int(t.keyLen))
	if err != nil {
		return err
	}
	iv, err := expandLabel(t.hash, secret, "iv", 12)
	if err != nil {
		return err
	}
	clear(t.secret[:])
	t.secLen = uint8(copy(t.secret[:], secret))
	copy(t.key[:], key)
	clear(key)
	copy(t.iv[:], iv)
	t.aead, t.seq = nil, 0
	return nil
}

// aeadFor returns the AEAD of the current key, building it if it was dropped
// or never built (AES-GCM from crypto/aes and crypto/cipher).
func (t *trafficKey) aeadFor() (cipher.AEAD, error) {
	if t.aead != nil {
		return t.aead, nil
	}
	block, err := aes.NewCipher(t.key[:t.keyLen])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	t.aead = aead
	return aead, nil
}

// drop lets the AEAD go (its memory to the garbage collector); the next record
// builds it again from the kept key. seq is untouched.
func (t *trafficKey) drop() { t.aead = nil }

// update moves to the next application traffic secret (RFC 8446 §7.2):
// secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
func (t *trafficKey) update() error {
	next, err := expandLabel(t.hash, t.secret[:t.secLen], "traffic upd", int(t.secLen))
	if err != nil {
		return err
	}
	err = t.set(next)
	clear(next)
	return err
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
