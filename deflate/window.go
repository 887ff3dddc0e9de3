package deflate

import "github.com/weir-ws/weir/bufpool"

// slide appends msg to the history window w and keeps its last limit bytes:
// the LZ77 window taken over into the next message (RFC 7692 §7.2.1). The
// window lives in a bufpool buffer sized to what it holds, so a connection
// that exchanged little keeps little, and one that exchanged much keeps the
// bufpool class of limit (at most 32 KiB).
func slide(w, msg []byte, limit int) []byte {
	if len(msg) >= limit {
		if cap(w) < limit {
			bufpool.Put(w)
			w = bufpool.Get(limit)
		}
		w = w[:limit]
		copy(w, msg[len(msg)-limit:])
		return w
	}
	if drop := len(w) + len(msg) - limit; drop > 0 {
		w = w[:copy(w, w[drop:])]
	}
	if cap(w)-len(w) < len(msg) {
		w = bufpool.Grow(w, len(msg))
	}
	return append(w, msg...)
}
