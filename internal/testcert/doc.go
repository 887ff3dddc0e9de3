// Package testcert makes the self-signed certificates weir's tests serve TLS
// with: one ECDSA P-256 key, valid from an hour ago to an hour from now, for
// server and client authentication, and the pool that trusts it. It is for
// tests only; nothing outside _test.go files imports it.
package testcert
