// Package iplimit counts connections per remote IP address against a cap
// (weir's Config.MaxConnsPerIP). It holds the counting only; who is counted,
// when, and what a refusal answers are the caller's policy.
//
// Addresses are keyed as a dual-stack listener needs: an IPv4-mapped IPv6
// address (::ffff:a.b.c.d) counts as the IPv4 address, and a zone is dropped.
// An IPv4 address counts alone; an IPv6 address counts under its prefix, a
// /64 unless New is told another length (128: every address alone), because
// one holder gets a whole /64 at least (a home line, a host; RFC 6177 §3: a
// /56 to a /48 per site) and could otherwise pass the cap with 2^64
// addresses. An invalid address (a Unix socket's peer) is never counted and
// always admitted.
//
// Every Enter is matched by one Leave, whether Enter admitted it or not, so
// the count is exact under one lock; an address whose count drops to zero is
// forgotten, so the map holds only addresses with live connections. Once an
// address has been seen, counting allocates nothing. A nil *Counter (no cap)
// admits everything and costs one nil check: no map, no lock.
package iplimit
