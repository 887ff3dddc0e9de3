//go:build unix && !linux

package pagepool

// noHugePages: transparent huge pages are Linux's.
func noHugePages([]byte) {}
