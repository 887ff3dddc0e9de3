// Package srvkit is the scaffolding every benchmark server in bench/servers shares,
// so that the servers differ only in the WebSocket library they exercise.
//
// Contract: a server calls Parse, starts listening on Options.Addr, then calls Serve
// with a broadcast function and a connection counter. Serve prints one line
//
//	LISTEN ws=ADDR stats=ADDR pid=PID
//
// on stdout (the harness waits for it), serves the stats endpoint, and returns only
// when the process gets SIGINT or SIGTERM (after stopping a CPU profile, if any).
//
// The stats endpoint (plain HTTP on Options.StatsAddr) answers:
//
//	GET /stats      runtime.GC(), then runtime.MemStats figures and the goroutine count
//	GET /broadcast?size=N   send one N-byte binary message to every open connection
package srvkit
