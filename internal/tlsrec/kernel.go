package tlsrec

import (
	"crypto/tls"
	"errors"
)

// Kernel TLS is not built: it needs a kernel with CONFIG_TLS, which the
// machines weir is tested on lack, so it could not be tested. This is its
// seam, the part that can be: a direction's keying state at a record
// boundary in the form Linux takes it for TLS 1.3 (setsockopt SOL_TLS,
// TLS_TX / TLS_RX, with struct tls12_crypto_info_aes_gcm_128 or _256:
// key, salt, iv, rec_seq), and the rule that once it is handed over this
// side never seals or opens another record with it. docs/tls-design.md
// ("Kernel TLS") says where the rest would go.

// KernelState is one direction's keys at a record boundary: the key and IV
// the traffic secret gives (RFC 8446 §7.3), the IV split as the kernel takes
// it (Salt its first 4 bytes, IV its last 8: the kernel computes each nonce
// as Salt || IV XOR the sequence number, which is §5.3's), and Seq, the
// sequence number of the next record (the kernel's rec_seq, big-endian).
type KernelState struct {
	Suite uint16 // tls.TLS_AES_128_GCM_SHA256 or tls.TLS_AES_256_GCM_SHA384
	Key   []byte // 16 or 32 bytes; the caller clears it once it is handed on
	Salt  [4]byte
	IV    [8]byte
	Seq   uint64
}

// ErrHandedOver is what a Reader returns after HandOver (a Writer returns
// ErrClosed): its keys belong to someone else (the kernel), and a record
// opened here would use a nonce the other side also uses.
var ErrHandedOver = errors.New("tlsrec: keys handed over")

// errPendingMessage: a Reader cannot hand over in the middle of a
// post-handshake message cut across records (the rest would arrive at the
// kernel, which does not know the first part).
var errPendingMessage = errors.New("tlsrec: a post-handshake message is cut across records")

// HandOver returns the Writer's keying state for the next record and closes
// the Writer: AppendSeal and the rest return ErrClosed from then on, so no
// nonce is used twice.
func (w *Writer) HandOver() (KernelState, error) {
	if w.k.flags&kClosed != 0 {
		return KernelState{}, ErrClosed
	}
	ks := w.k.kernelState()
	w.k.flags |= kClosed
	w.k.drop()
	return ks, nil
}

// HandOver returns the Reader's keying state for the next record the peer
// sends and ends the Reader: Open returns ErrHandedOver from then on. It
// refuses (leaving the Reader as it was) after an error and while a
// post-handshake message is cut across records.
func (r *Reader) HandOver() (KernelState, error) {
	if m := r.k.rare(); m != nil && m.err != nil {
		return KernelState{}, m.err
	}
	if r.Pending() {
		return KernelState{}, errPendingMessage
	}
	ks := r.k.kernelState()
	r.k.drop()
	r.k.keep().err = ErrHandedOver
	return ks, nil
}

// kernelState derives the current key and IV (§7.3) and puts them with the
// sequence number in a KernelState.
func (t *trafficKey) kernelState() KernelState {
	var key [32]byte
	var iv [12]byte
	defer clear(key[:])
	defer clear(iv[:])
	t.derive(key[:t.keyLen()], iv[:])
	ks := KernelState{Suite: tls.TLS_AES_128_GCM_SHA256, Key: append([]byte(nil), key[:t.keyLen()]...), Seq: t.seq}
	if t.sha384() {
		ks.Suite = tls.TLS_AES_256_GCM_SHA384
	}
	copy(ks.Salt[:], iv[:4])
	copy(ks.IV[:], iv[4:])
	return ks
}
