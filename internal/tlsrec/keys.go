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

// trafficKey is one direction's keying state. Between records it keeps only
// what cannot be derived again: the suite, the traffic secret (RFC 8446 §7.1)
// and the sequence number, inline (64 bytes). Everything derived from the
// secret is a cache, live, built at the first record that needs it (aeadFor:
// key and IV by HKDF-Expand-Label, §7.3, then the AEAD: AES key schedules and
// the GHASH table, about 0.9 KB) and dropped whole by drop when the direction
// goes idle (Reader.Relax, Writer.Relax). Dropping touches neither the secret
// nor seq, so a rebuilt cache derives the same key and IV and continues the
// same nonce sequence (§5.3): no nonce is ever used twice under one key,
// across any number of drops.
type trafficKey struct {
	suite  uint16
	closed bool     // the Writer's: nothing more is sealed
	client bool     // the Reader's: it is a client's, a NewSessionTicket is allowed
	secret [48]byte // secret[:secretLen()]: this key's traffic secret (§7.1)
	last   uint32   // idle.go: when the previous burst ended (in the padding before seq)
	seq    uint64
	live   *liveKey // nil until needed and after drop
}

// liveKey is what a direction derives from its secret to seal or open
// records. nonce and ad live here, not on the stack: slices passed to the
// cipher.AEAD interface escape, and this keeps the per-record path free of
// allocations.
type liveKey struct {
	aead  cipher.AEAD
	iv    [12]byte // HKDF-Expand-Label(secret, "iv", "", 12) (§7.3)
	nonce [12]byte
	ad    [HeaderLen]byte
}

// init sets t up for k, copying the secret; nothing is derived yet.
func (t *trafficKey) init(k Keys) error {
	*t = trafficKey{suite: k.Suite}
	if t.keyLen() == 0 || len(k.Secret) != t.hash().Size() {
		return ErrUnsupportedSuite
	}
	t.set(k.Secret)
	t.seq = k.Seq
	return nil
}

// keyLen is the suite's AES key length; 0 for a suite not run here.
func (t *trafficKey) keyLen() int {
	switch t.suite {
	case tls.TLS_AES_128_GCM_SHA256:
		return 16
	case tls.TLS_AES_256_GCM_SHA384:
		return 32
	}
	return 0
}

// secretLen is the length of the suite's traffic secrets: its hash's
// (RFC 8446 §7.1, Derive-Secret; init checks it).
func (t *trafficKey) secretLen() int {
	if t.suite == tls.TLS_AES_256_GCM_SHA384 {
		return sha512.Size384
	}
	return sha256.Size
}

// hash is the suite's hash (RFC 8446 B.4).
func (t *trafficKey) hash() hash.Hash {
	if t.suite == tls.TLS_AES_256_GCM_SHA384 {
		return sha512.New384()
	}
	return sha256.New()
}

// set installs secret (copied), sequence number back to 0, and drops what was
// derived from the old secret, so that nothing is ever sealed or opened under
// the old key again.
func (t *trafficKey) set(secret []byte) {
	clear(t.secret[:])
	copy(t.secret[:], secret)
	t.drop()
	t.seq = 0
}

// aeadFor returns the AEAD of the current key, deriving key and IV from the
// secret (RFC 8446 §7.3) and building AES-GCM (crypto/aes, crypto/cipher)
// if they were dropped or never built.
func (t *trafficKey) aeadFor() (cipher.AEAD, error) {
	if t.live != nil {
		return t.live.aead, nil
	}
	var key [32]byte
	l := &liveKey{}
	t.derive(key[:t.keyLen()], l.iv[:])
	defer clear(key[:])
	block, err := aes.NewCipher(key[:t.keyLen()])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	l.aead = aead
	t.live = l
	return aead, nil
}

// derive fills key and iv with HKDF-Expand-Label(secret, "key" / "iv", "",
// len) (RFC 8446 §7.1, §7.3). Both are shorter than the hash, so each
// HKDF-Expand (RFC 5869 §2.3) is its first block alone, T(1) =
// HMAC(secret, HkdfLabel || 0x01), computed by hmacSum without allocating
// (crypto/hmac's HMAC is an allocation of its own and two hash states): a
// rebuild after an idle drop (idle.go), once per keepalive round on an idle
// connection, makes only the AEAD's garbage (BenchmarkRebuild).
// TestDeriveMatchesHKDF checks it against crypto/hkdf.
func (t *trafficKey) derive(key, iv []byte) {
	for _, out := range [2]struct {
		label string
		b     []byte
	}{{"key", key}, {"iv", iv}} {
		var info [2 + 1 + 6 + 3 + 1 + 1]byte // HkdfLabel (§7.1) and the counter
		n := len(out.b)
		hl := append(info[:0], byte(n>>8), byte(n), byte(6+len(out.label)))
		hl = append(hl, "tls13 "...)
		hl = append(hl, out.label...)
		hl = append(hl, 0, 1) // empty context; T(1)'s counter
		hmacSum(t.suite == tls.TLS_AES_256_GCM_SHA384, t.secret[:t.secretLen()], hl, out.b)
	}
}

// hmacSum puts the first len(out) bytes of HMAC(secret, msg) (RFC 2104,
// with SHA-256, or SHA-384 when sha384) in out, with the one-shot
// sha256.Sum256 / sha512.Sum384 over buffers on the stack. secret is
// shorter than the hash's block, so it is the HMAC key as is, zero-padded to
// the block (§2); msg is at most 64 bytes. The buffers are cleared after.
func hmacSum(sha384 bool, secret, msg, out []byte) {
	bs, hs := sha256.BlockSize, sha256.Size
	if sha384 {
		bs, hs = sha512.BlockSize, sha512.Size384
	}
	var buf [sha512.BlockSize + 64]byte
	var sum [sha512.Size384]byte
	defer clear(buf[:])
	defer clear(sum[:])
	pad := func(x byte) {
		for i := range bs {
			var k byte
			if i < len(secret) {
				k = secret[i]
			}
			buf[i] = k ^ x
		}
	}
	hash := func(b []byte) {
		if sha384 {
			sum = sha512.Sum384(b)
		} else {
			s := sha256.Sum256(b)
			copy(sum[:], s[:])
			clear(s[:])
		}
	}
	pad(0x36) // ipad
	hash(buf[:bs+copy(buf[bs:], msg)])
	pad(0x5c) // opad
	hash(buf[:bs+copy(buf[bs:], sum[:hs])])
	copy(out, sum[:hs])
}

// drop lets the derived state go (its memory to the garbage collector; the
// IV is cleared first); the next record derives it again from the kept
// secret. seq is untouched.
func (t *trafficKey) drop() {
	if t.live != nil {
		clear(t.live.iv[:])
		t.live = nil
	}
}

// update moves to the next application traffic secret (RFC 8446 §7.2):
// secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
func (t *trafficKey) update() error {
	next, err := expandLabel(t.hash, t.secret[:t.secretLen()], "traffic upd", t.secretLen())
	if err != nil {
		return err
	}
	t.set(next)
	clear(next)
	return nil
}

// next computes the nonce of the current record (RFC 8446 §5.3: the 64-bit
// sequence number, big-endian, left-padded to the IV length, XORed with the
// IV) and advances the sequence number, which never reaches 2^64-1. Call it
// after aeadFor.
func (t *trafficKey) next() ([]byte, error) {
	if t.seq >= math.MaxUint64-1 {
		return nil, ErrSeqExhausted
	}
	l := t.live
	l.nonce = l.iv
	for i := 0; i < 8; i++ {
		l.nonce[4+i] ^= byte(t.seq >> (56 - 8*i))
	}
	t.seq++
	return l.nonce[:], nil
}

// ad returns the additional data of the record whose header is hdr (§5.2:
// the header itself). Call it after aeadFor.
func (t *trafficKey) ad(hdr []byte) []byte {
	return t.live.ad[:copy(t.live.ad[:], hdr)]
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
