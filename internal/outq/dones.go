package outq

// Never is the end offset of a completion whose bytes will never go out.
const Never = 1 << 62

// Done is a completion callback waiting for the bytes up to End (a
// Queue.Total offset) to be taken by the socket.
type Done struct {
	End int64
	Fn  func(error)
}

// Dones is the completions waiting for their bytes, in offset order.
type Dones struct{ list []Done }

// Add records fn, owed once the socket has taken the bytes up to end.
func (d *Dones) Add(end int64, fn func(error)) {
	d.list = append(d.list, Done{End: end, Fn: fn})
}

// Take removes and returns the completions whose bytes are out: flushed is
// the offset up to which the socket has taken everything. It returns nil,
// allocating nothing, when none is.
func (d *Dones) Take(flushed int64) []Done {
	i := 0
	for i < len(d.list) && d.list[i].End <= flushed {
		i++
	}
	if i == 0 {
		return nil
	}
	out := append([]Done(nil), d.list[:i]...)
	d.list = append(d.list[:0], d.list[i:]...)
	return out
}

// TakeAfter removes and returns the completions whose bytes end past offset
// (a connection's end: bytes that will not go out).
func (d *Dones) TakeAfter(offset int64) []Done {
	i := len(d.list)
	for i > 0 && d.list[i-1].End > offset {
		i--
	}
	if i == len(d.list) {
		return nil
	}
	out := append([]Done(nil), d.list[i:]...)
	clear(d.list[i:])
	d.list = d.list[:i]
	return out
}

// All removes and returns every completion (the connection is over).
func (d *Dones) All() []Done {
	out := d.list
	d.list = nil
	return out
}
