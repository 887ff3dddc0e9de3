package upgrade

import (
	"crypto/sha1"
	"encoding/base64"
)

// keyGUID is appended to the client's key before hashing (RFC 6455 §1.3).
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey computes Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) (RFC 6455
// §4.2.2 step 5.4) on the stack: the concatenation, the digest and the encoding
// all live in fixed arrays.
func acceptKey(key string) (out [28]byte) {
	var sum [sha1.Size]byte
	if len(key) == 24 {
		var b [24 + len(keyGUID)]byte
		copy(b[:], key)
		copy(b[24:], keyGUID)
		sum = sha1.Sum(b[:])
	} else {
		h := sha1.New()
		h.Write([]byte(key))
		h.Write([]byte(keyGUID))
		h.Sum(sum[:0])
	}
	base64.StdEncoding.Encode(out[:], sum[:])
	return out
}

// AcceptKey returns the Sec-WebSocket-Accept value answering key.
func AcceptKey(key string) string {
	a := acceptKey(key)
	return string(a[:])
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value answering key to dst
// without allocating.
func AppendAcceptKey(dst []byte, key string) []byte {
	a := acceptKey(key)
	return append(dst, a[:]...)
}
