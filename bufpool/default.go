package bufpool

// std is the pool behind the package-level functions; its zero value has the
// default classes, MinSize to MaxSize.
var std Pool

// Get returns a slice of length n from the default pool: capacity is n
// rounded up to a power of two between MinSize and MaxSize, or exactly n
// above MaxSize (a plain allocation, never pooled). Contents are not zeroed.
func Get(n int) []byte { return std.Get(n) }

// Put returns b to the default pool. b must not be used afterwards; a slice
// whose capacity is not a class size is dropped.
func Put(b []byte) { std.Put(b) }

// Grow returns b, or a copy of it in a larger buffer of the default pool,
// with room for at least n more bytes; a replaced b is Put.
func Grow(b []byte, n int) []byte { return std.Grow(b, n) }
