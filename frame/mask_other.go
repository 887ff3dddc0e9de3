//go:build !amd64 || purego

package frame

// maskLong masks a long b with the portable unrolled loop and returns the
// last few bytes with their key word.
func maskLong(b []byte, k uint32) ([]byte, uint32) { return maskBlocks(b, k), k }
