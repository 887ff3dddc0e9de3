package assemble

import "github.com/weir-ws/weir/bufpool"

// Keep appends data to buf, a pooled buffer of bytes kept between reads (nil:
// a new one of at least min bytes), growing it in the pool when it must: the
// bytes a read could not use yet (a request cut by a read, input kept while
// reading is paused, what followed a request whose answer is deferred). Its
// growth is that of the bytes kept, never of what they claim; the caller
// bounds how much it keeps.
func Keep(buf, data []byte, min int) []byte {
	if buf == nil {
		buf = bufpool.Get(max(len(data), min))[:0]
	} else if cap(buf)-len(buf) < len(data) {
		buf = bufpool.Grow(buf, len(data))
	}
	return append(buf, data...)
}
