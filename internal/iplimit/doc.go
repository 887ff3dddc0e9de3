// Package iplimit counts connections per remote IP address against a cap
// (weir's Config.MaxConnsPerIP). It holds the counting only; who is counted,
// when, and what a refusal answers are the caller's policy.
//
// Addresses are keyed as a dual-stack listener needs: an IPv4-mapped IPv6
// address (::ffff:a.b.c.d) counts as the IPv4 address, and a zone is dropped.
// An invalid address (a Unix socket's peer) is never counted and always
// admitted. Every address counts alone: there is no prefix grouping.
//
// Every Enter is matched by one Leave, whether Enter admitted it or not, so
// the count is exact under one lock; an address whose count drops to zero is
// forgotten, so the map holds only addresses with live connections. Once an
// address has been seen, counting allocates nothing. A nil *Counter (no cap)
// admits everything and costs one nil check: no map, no lock.
package iplimit
