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
// what cannot be derived again: the traffic secret (RFC 8446 §7.1), the
// sequence number and the suite, inline in 56 bytes: a SHA-256 suite's
// secret is 32 bytes, all of it here; a SHA-384 suite's 48, its last 16 in
// the rare part (keyMore), so that the common suite does not pay for the
// longer one in every idle connection (internal/tlsloop's Conn holds two).
// Everything derived from the secret is a cache in x, built at the first
// record that needs it (aeadFor: key and IV by HKDF-Expand-Label, §7.3,
// then the AEAD: AES key schedules and the GHASH table, about 0.8 KB) and
// dropped by drop when the direction goes idle (Reader.Relax,
// Writer.Relax). Dropping touches neither the secret nor seq, so a rebuilt
// cache derives the same key and IV and continues the same nonce sequence
// (§5.3): no nonce is ever used twice under one key, across any number of
// drops.
type trafficKey struct {
	secret [32]byte // the traffic secret, or a SHA-384 one's first 32 bytes (the rest in x.more.tail)
	seq    uint64
	last   uint32   // idle.go: when the previous burst ended
	flags  uint8    // kSHA384, kClosed, kClient
	quiet  uint8    // the Reader's: post-handshake messages since the last application data (maxUselessMessages)
	x      *liveKey // nil until needed, and after a drop when it keeps no rare part
}

// Flags of a trafficKey.
const (
	kSHA384 = 1 << iota // TLS_AES_256_GCM_SHA384, else TLS_AES_128_GCM_SHA256
	kClosed             // the Writer's: nothing more is sealed
	kClient             // the Reader's: it is a client's, a NewSessionTicket is allowed
)

// liveKey is what a direction derives from its secret to seal or open
// records, and the pointer to its rare part. nonce lives here, not on the
// stack: a slice passed to the cipher.AEAD interface escapes, and this keeps
// the per-record path free of allocations. A drop clears aead and iv and
// lets the liveKey go unless more is set (then it stays, 48 bytes, with the
// rare part).
type liveKey struct {
	aead  cipher.AEAD // nil when dropped
	iv    [12]byte    // HKDF-Expand-Label(secret, "iv", "", 12) (§7.3)
	nonce [12]byte
	more  *keyMore
}

// keyMore is what a direction keeps only sometimes, across drops: nil in
// nearly every idle server connection (a SHA-256 suite, no option set, no
// error, no message cut across records).
type keyMore struct {
	tail       [16]byte // a SHA-384 secret's last 16 bytes
	autoUpdate uint32   // the Writer's: SetAutoUpdate; 0 means AutoUpdateRecords
	// The Reader's:
	hs       *[]byte          // a post-handshake message cut across records; nil when none
	err      error            // sticky: the first error ends the Reader
	onTicket func(msg []byte) // ReaderOptions.OnSessionTicket
}

// rare returns the rare part, nil when there is none (no allocation).
func (t *trafficKey) rare() *keyMore {
	if t.x == nil {
		return nil
	}
	return t.x.more
}

// keep returns the rare part, made on first need; it is kept until the
// trafficKey goes.
func (t *trafficKey) keep() *keyMore {
	if t.x == nil {
		t.x = &liveKey{}
	}
	if t.x.more == nil {
		t.x.more = &keyMore{}
	}
	return t.x.more
}

func (t *trafficKey) sha384() bool { return t.flags&kSHA384 != 0 }

// init sets t up for k, copying the secret; nothing is derived yet.
func (t *trafficKey) init(k Keys) error {
	*t = trafficKey{}
	switch k.Suite {
	case tls.TLS_AES_128_GCM_SHA256:
	case tls.TLS_AES_256_GCM_SHA384:
		t.flags = kSHA384
	default:
		return ErrUnsupportedSuite
	}
	if len(k.Secret) != t.secretLen() {
		return ErrUnsupportedSuite
	}
	t.set(k.Secret)
	t.seq = k.Seq
	return nil
}

// keyLen is the suite's AES key length.
func (t *trafficKey) keyLen() int {
	if t.sha384() {
		return 32
	}
	return 16
}

// secretLen is the length of the suite's traffic secrets: its hash's
// (RFC 8446 §7.1, Derive-Secret; init checks it).
func (t *trafficKey) secretLen() int {
	if t.sha384() {
		return sha512.Size384
	}
	return sha256.Size
}

// hash is the suite's hash (RFC 8446 B.4).
func (t *trafficKey) hash() hash.Hash {
	if t.sha384() {
		return sha512.New384()
	}
	return sha256.New()
}

// secretIn returns the whole secret: t.secret itself for a SHA-256 suite, a
// SHA-384 one put together in buf. The caller clears buf.
func (t *trafficKey) secretIn(buf *[sha512.Size384]byte) []byte {
	if !t.sha384() {
		return t.secret[:]
	}
	copy(buf[copy(buf[:], t.secret[:]):], t.rare().tail[:])
	return buf[:]
}

// set installs secret (copied; its length is the suite's), sequence number
// back to 0, and drops what was derived from the old secret, so that nothing
// is ever sealed or opened under the old key again.
func (t *trafficKey) set(secret []byte) {
	t.drop()
	copy(t.secret[:], secret)
	if t.sha384() {
		copy(t.keep().tail[:], secret[len(t.secret):])
	}
	t.seq = 0
}

// aeadFor returns the AEAD of the current key, deriving key and IV from the
// secret (RFC 8446 §7.3) and building AES-GCM (crypto/aes, crypto/cipher)
// if they were dropped or never built.
func (t *trafficKey) aeadFor() (cipher.AEAD, error) {
	if t.x != nil && t.x.aead != nil {
		return t.x.aead, nil
	}
	var key [32]byte
	defer clear(key[:])
	l := t.x
	if l == nil {
		l = &liveKey{}
	}
	t.derive(key[:t.keyLen()], l.iv[:])
	block, err := aes.NewCipher(key[:t.keyLen()])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	l.aead = aead
	t.x = l
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
	var buf [sha512.Size384]byte
	defer clear(buf[:])
	secret := t.secretIn(&buf)
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
		hmacSum(t.sha384(), secret, hl, out.b)
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
// IV and nonce are cleared first); the next record derives it again from
// the kept secret. The liveKey itself stays when it holds the rare part.
// seq is untouched.
func (t *trafficKey) drop() {
	l := t.x
	if l == nil {
		return
	}
	l.aead = nil
	clear(l.iv[:])
	clear(l.nonce[:])
	if l.more == nil {
		t.x = nil
	}
}

// update moves to the next application traffic secret (RFC 8446 §7.2):
// secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
func (t *trafficKey) update() error {
	var buf [sha512.Size384]byte
	defer clear(buf[:])
	next, err := expandLabel(t.hash, t.secretIn(&buf), "traffic upd", t.secretLen())
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
	l := t.x
	l.nonce = l.iv
	for i := 0; i < 8; i++ {
		l.nonce[4+i] ^= byte(t.seq >> (56 - 8*i))
	}
	t.seq++
	return l.nonce[:], nil
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
