package frame

import (
	"encoding/binary"
	"math/bits"
)

// UTF8Validator checks a text message for UTF-8 (RFC 3629, as RFC 6455 §5.6
// and §8.1 require) as it arrives, fragment by fragment and read by read.
// It fails fast: Write reports false at the first byte that can neither
// start nor continue a valid sequence, so the engine can fail the connection
// with 1007 without waiting for the end of the message (Autobahn case 6.x).
// The zero value is ready to use; it does not allocate.
type UTF8Validator struct {
	need uint8 // continuation bytes still missing in the sequence p ended in
	lo   uint8 // the next continuation byte must lie in [lo, lo+span]
	span uint8
	bad  bool // an invalid byte was seen; stays set until Reset
}

// Write validates the next piece of the stream. It returns false as soon as
// the stream so far cannot be the beginning of valid UTF-8, and keeps
// returning false until Reset. A sequence cut at the end of p is carried
// over to the next Write.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.bad {
		return false
	}
	// Finish the sequence the previous Write ended in.
	for v.need > 0 {
		if len(p) == 0 {
			return true
		}
		if p[0]-v.lo > v.span {
			v.bad = true
			return false
		}
		v.lo, v.span = 0x80, 0x3F
		v.need--
		p = p[1:]
	}
	n, ok := scanUTF8(p)
	if !ok {
		v.bad = true
		return false
	}
	if t := p[n:]; len(t) > 0 {
		// scanUTF8 checked that t starts a sequence and is a valid beginning of it.
		x := leadInfo[t[0]]
		v.need = uint8(x) - uint8(len(t))
		v.lo, v.span = 0x80, 0x3F
		if len(t) == 1 {
			v.lo, v.span = uint8(x>>8), uint8(x>>16)
		}
	}
	return true
}

// Complete reports whether everything written so far is valid UTF-8 that
// ends on a character boundary; the engine calls it at the end of a message.
func (v *UTF8Validator) Complete() bool { return !v.bad && v.need == 0 }

// Reset makes v ready for a new message.
func (v *UTF8Validator) Reset() { *v = UTF8Validator{} }

// ValidUTF8 reports whether p is entirely valid UTF-8; it gives the same
// verdict as utf8.Valid and is meant for whole payloads such as close reasons.
func ValidUTF8(p []byte) bool {
	n, ok := scanUTF8(p)
	return ok && n == len(p)
}

// leadInfo describes each possible first byte of a sequence (RFC 3629 §4):
//
//	bits 0-7   sequence length: 1 for ASCII, 2-4, 0 if the byte cannot start one
//	bits 8-15  lo: the smallest allowed second byte
//	bits 16-23 span: the largest allowed second byte minus lo
//
// scanUTF8 uses it for the last bytes of a buffer and the validator for the
// state it carries across writes; the word-wide path checks bits instead.
// The narrow second-byte ranges rule out overlong forms (E0 80..9F,
// F0 80..8F), surrogates (ED A0..BF) and code points over U+10FFFF (F4 90..).
var leadInfo = func() (t [256]uint32) {
	seq := func(size, lo, hi uint32) uint32 {
		return size | lo<<8 | (hi-lo)<<16
	}
	for c := 0; c < 0x80; c++ {
		t[c] = 1
	}
	for c := 0xC2; c <= 0xDF; c++ {
		t[c] = seq(2, 0x80, 0xBF)
	}
	for c := 0xE0; c <= 0xEF; c++ {
		t[c] = seq(3, 0x80, 0xBF)
	}
	t[0xE0] = seq(3, 0xA0, 0xBF)
	t[0xED] = seq(3, 0x80, 0x9F)
	for c := 0xF0; c <= 0xF4; c++ {
		t[c] = seq(4, 0x80, 0xBF)
	}
	t[0xF0] = seq(4, 0x90, 0xBF)
	t[0xF4] = seq(4, 0x80, 0x8F)
	return t
}()

const hiBits = 0x8080808080808080

// scanUTF8 validates p from the start. It returns ok=false if p contains a
// byte that cannot start or continue a sequence where it stands. Otherwise
// p[:n] is whole sequences and p[n:] (at most 3 bytes) is the valid
// beginning of a sequence that p cuts short.
func scanUTF8(p []byte) (n int, ok bool) {
	p = p[:len(p):len(p)]
	size := len(p)
	orig := p
	for len(p) > 8 {
		// p[0] is read only through w: a separate p[0] would stop the
		// compiler from merging the byte loads into one.
		w := binary.LittleEndian.Uint64(p)
		if w&0x80 == 0 {
			// ASCII fast path: 8 bytes, then 32 per step, then 64 per step
			// once a 32-byte run was all ASCII (text with sparse non-ASCII
			// bytes would waste the wider loads).
			m := w & hiBits
			if m == 0 {
				// "len(p) > n" rather than ">=" spares the slicing below the
				// fix-up for a slice that would point past the end.
				p = p[8:]
				for len(p) > 32 && (binary.LittleEndian.Uint64(p)|binary.LittleEndian.Uint64(p[8:])|
					binary.LittleEndian.Uint64(p[16:])|binary.LittleEndian.Uint64(p[24:]))&hiBits == 0 {
					p = p[32:]
					for len(p) > 64 && (binary.LittleEndian.Uint64(p)|binary.LittleEndian.Uint64(p[8:])|
						binary.LittleEndian.Uint64(p[16:])|binary.LittleEndian.Uint64(p[24:])|
						binary.LittleEndian.Uint64(p[32:])|binary.LittleEndian.Uint64(p[40:])|
						binary.LittleEndian.Uint64(p[48:])|binary.LittleEndian.Uint64(p[56:]))&hiBits == 0 {
						p = p[64:]
					}
				}
				continue
			}
			// Skip straight to the first non-ASCII byte.
			p = p[bits.TrailingZeros64(m)>>3:]
			if len(p) < 4 {
				break
			}
			w = uint64(binary.LittleEndian.Uint32(p))
		}
		// p[0] is not ASCII and len(p) >= 4: check the whole sequence from
		// the low 4 bytes of w. Match its bit pattern, then rule out what
		// RFC 3629 §4 forbids within it (overlong forms, surrogates, code
		// points past U+10FFFF) from the payload bits of the first two
		// bytes. Branching on the length rather than advancing by a
		// looked-up length keeps the next iteration from waiting on loads.
		switch {
		case w&0xC0E0 == 0x80C0: // 110xxxxx 10xxxxxx
			if uint8(w) < 0xC2 { // C0, C1: overlong
				return 0, false
			}
			p = p[2:]
		case w&0xC0C0F0 == 0x8080E0: // 1110xxxx 10xxxxxx 10xxxxxx
			// Lead nibble and bit 5 of the second byte: E0 80..9F is
			// overlong, ED A0..BF a surrogate.
			if t := uint32(w) & 0x200F; t == 0 || t == 0x200D {
				return 0, false
			}
			p = p[3:]
		case w&0xC0C0C0F8 == 0x808080F0: // 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx
			// The code point's top 9 bits must lie in 0x010..0x10F
			// (U+10000..U+10FFFF).
			if t := uint32(w)&0x7<<6 | uint32(w>>8)&0x3F; t-0x10 > 0xFF {
				return 0, false
			}
			p = p[4:]
		default:
			return 0, false
		}
	}
	// The last few bytes. If the buffer's last 8 bytes are ASCII, they
	// hold p and are done; otherwise one byte or sequence at a time,
	// fail-fast on a sequence that p cuts short.
	if size >= 8 && binary.LittleEndian.Uint64(orig[size-8:])&hiBits == 0 {
		return size, true
	}
	for len(p) > 0 {
		c := p[0]
		if c < 0x80 {
			p = p[1:]
			continue
		}
		x := leadInfo[c]
		l := int(uint8(x))
		if l < 2 {
			return 0, false
		}
		if len(p) > 1 && p[1]-uint8(x>>8) > uint8(x>>16) {
			return 0, false
		}
		for i := 2; i < l && i < len(p); i++ {
			if int8(p[i]) >= -64 { // not 10xxxxxx
				return 0, false
			}
		}
		if len(p) < l {
			return size - len(p), true
		}
		p = p[l:]
	}
	return size, true
}
