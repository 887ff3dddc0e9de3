//go:build !unix

package p

func f() string { return "" } // the wrong type: the error crosscheck must find
