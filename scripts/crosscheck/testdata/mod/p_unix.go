//go:build unix

package p

func f() int { return 1 }
