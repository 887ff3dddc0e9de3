//go:build !unix

package pagepool

// Without mmap there are no slabs: every Get is a heap slice, which Put ignores.
func mapSlab(int) []byte { return nil }

func release([]byte) {}
