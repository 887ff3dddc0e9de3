// Package p type-checks on unix and not elsewhere: crosscheck's test.
package p

var x int = f()
