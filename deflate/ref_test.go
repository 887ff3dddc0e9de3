package deflate

import "errors"

// refInflate is a deliberately simple DEFLATE decoder (RFC 1951), written for
// these tests as an oracle independent of klauspost's: it decodes msg with
// inflateTail appended after history, ends like inflateMessage (a final block
// ends the message once the message bytes are consumed; otherwise the next
// block follows it), and reports the longest match distance so tests can
// check that a compressor kept to its window. maxOut bounds the output.
func refInflate(history, msg []byte, maxOut int) (out []byte, maxDist int, err error) {
	in := make([]byte, 0, len(msg)+len(inflateTail))
	in = append(append(in, msg...), inflateTail...)
	d := refDecoder{r: refBits{in: in}, hist: len(history), maxOut: maxOut}
	d.out = append(d.out, history...)
	for {
		final, err := d.r.bits(1)
		if err != nil {
			return nil, 0, err
		}
		typ, err := d.r.bits(2)
		if err != nil {
			return nil, 0, err
		}
		switch typ {
		case 0:
			err = d.stored()
		case 1:
			err = d.codes(&refFixedLit, &refFixedDist)
		case 2:
			err = d.dynamic()
		default:
			err = errRefCorrupt
		}
		if err != nil {
			return nil, 0, err
		}
		if final == 1 {
			if d.r.pos >= len(msg) {
				return d.out[len(history):], d.maxDist, nil
			}
			d.r.align() // the next block follows the padding (RFC 7692 §7.2.1)
		}
	}
}

var (
	errRefCorrupt = errors.New("ref: corrupt")
	errRefEOF     = errors.New("ref: unexpected end")
	errRefFar     = errors.New("ref: distance too far back")
	errRefBig     = errors.New("ref: output over the limit")
)

// refBits reads bits LSB first, a byte at a time and only when needed, so at
// most 7 unread bits of the current byte are ever buffered.
type refBits struct {
	in  []byte
	pos int
	buf uint32
	n   uint
}

func (r *refBits) bits(n uint) (int, error) {
	for r.n < n {
		if r.pos >= len(r.in) {
			return 0, errRefEOF
		}
		r.buf |= uint32(r.in[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
	v := int(r.buf & (1<<n - 1))
	r.buf >>= n
	r.n -= n
	return v, nil
}

func (r *refBits) align() { r.buf, r.n = 0, 0 }

// refHuff is a canonical Huffman code: counts per length and symbols in code
// order.
type refHuff struct {
	count [16]int
	sym   []int
}

func newRefHuff(lengths []int) (refHuff, error) {
	var h refHuff
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		if left -= h.count[l]; left < 0 {
			return h, errRefCorrupt // over-subscribed
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.sym = make([]int, offs[15]+h.count[15])
	for s, l := range lengths {
		if l != 0 {
			h.sym[offs[l]] = s
			offs[l]++
		}
	}
	return h, nil
}

func (r *refBits) decode(h *refHuff) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if n := h.count[l]; code-n < first {
			return h.sym[index+code-first], nil
		} else {
			index += n
			first = (first + n) << 1
			code <<= 1
		}
	}
	return 0, errRefCorrupt // an unused code of an incomplete set
}

var (
	refLenBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	refLenExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	refDistBase = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	refDistExtr = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	refOrder    = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	refFixedLit, refFixedDist = func() (refHuff, refHuff) {
		var l [288]int
		for i := range l {
			switch {
			case i < 144:
				l[i] = 8
			case i < 256:
				l[i] = 9
			case i < 280:
				l[i] = 7
			default:
				l[i] = 8
			}
		}
		var d [30]int
		for i := range d {
			d[i] = 5
		}
		lit, _ := newRefHuff(l[:])
		dist, _ := newRefHuff(d[:])
		return lit, dist
	}()
)

type refDecoder struct {
	r       refBits
	out     []byte // history, then the output
	hist    int
	maxOut  int
	maxDist int
}

func (d *refDecoder) room(n int) error {
	if len(d.out)-d.hist+n > d.maxOut {
		return errRefBig
	}
	return nil
}

func (d *refDecoder) stored() error {
	d.r.align()
	r := &d.r
	if r.pos+4 > len(r.in) {
		return errRefEOF
	}
	n := int(r.in[r.pos]) | int(r.in[r.pos+1])<<8
	if nn := int(r.in[r.pos+2]) | int(r.in[r.pos+3])<<8; n != ^nn&0xffff {
		return errRefCorrupt
	}
	r.pos += 4
	if r.pos+n > len(r.in) {
		return errRefEOF
	}
	if err := d.room(n); err != nil {
		return err
	}
	d.out = append(d.out, r.in[r.pos:r.pos+n]...)
	r.pos += n
	return nil
}

func (d *refDecoder) codes(lit, dist *refHuff) error {
	for {
		s, err := d.r.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case s < 256:
			if err := d.room(1); err != nil {
				return err
			}
			d.out = append(d.out, byte(s))
			continue
		case s == 256:
			return nil
		case s > 285:
			return errRefCorrupt
		}
		s -= 257
		extra, err := d.r.bits(refLenExtra[s])
		if err != nil {
			return err
		}
		n := refLenBase[s] + extra
		ds, err := d.r.decode(dist)
		if err != nil {
			return err
		}
		if ds > 29 {
			return errRefCorrupt
		}
		if extra, err = d.r.bits(refDistExtr[ds]); err != nil {
			return err
		}
		dd := refDistBase[ds] + extra
		if dd > len(d.out) {
			return errRefFar
		}
		if err := d.room(n); err != nil {
			return err
		}
		d.maxDist = max(d.maxDist, dd)
		for i := 0; i < n; i++ {
			d.out = append(d.out, d.out[len(d.out)-dd])
		}
	}
}

func (d *refDecoder) dynamic() error {
	r := &d.r
	nlen, err := r.bits(5)
	if err != nil {
		return err
	}
	ndist, err := r.bits(5)
	if err != nil {
		return err
	}
	ncode, err := r.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return errRefCorrupt
	}
	var cl [19]int
	for i := 0; i < ncode; i++ {
		if cl[refOrder[i]], err = r.bits(3); err != nil {
			return err
		}
	}
	clh, err := newRefHuff(cl[:])
	if err != nil {
		return err
	}
	lengths := make([]int, nlen+ndist)
	for i := 0; i < len(lengths); {
		s, err := r.decode(&clh)
		if err != nil {
			return err
		}
		if s < 16 {
			lengths[i] = s
			i++
			continue
		}
		var v, rep int
		switch s {
		case 16:
			if i == 0 {
				return errRefCorrupt
			}
			v = lengths[i-1]
			rep, err = r.bits(2)
			rep += 3
		case 17:
			rep, err = r.bits(3)
			rep += 3
		default:
			rep, err = r.bits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+rep > len(lengths) {
			return errRefCorrupt
		}
		for ; rep > 0; rep-- {
			lengths[i] = v
			i++
		}
	}
	if lengths[256] == 0 {
		return errRefCorrupt
	}
	lit, err := newRefHuff(lengths[:nlen])
	if err != nil {
		return err
	}
	dist, err := newRefHuff(lengths[nlen:])
	if err != nil {
		return err
	}
	return d.codes(&lit, &dist)
}
