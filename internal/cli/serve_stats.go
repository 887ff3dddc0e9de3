package cli

import (
	"encoding/json"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// demoStats is the /stats document.
type demoStats struct {
	UptimeSeconds float64   `json:"uptime_seconds"`
	Connections   connStats `json:"connections"`
	Messages      inOut     `json:"messages"` // data messages
	Bytes         inOut     `json:"bytes"`    // their payload bytes (no frame headers)
	Wire          wireStats `json:"wire"`     // the engine's own totals (Server.Stats)
	// Rooms is each chat room's connections on this node (pubsub's
	// Subscribers: a Hub counts its own node).
	Rooms      map[string]int `json:"rooms"`
	PubSub     pubsubStats    `json:"pubsub"`
	Goroutines int            `json:"goroutines"`
	Heap       heapStats      `json:"heap"`
}

// wireStats is engine.EngineStats: every connection so far, with frame
// headers, handshakes and control frames in the bytes.
type wireStats struct {
	Opened   uint64 `json:"opened"`
	Closed   uint64 `json:"closed"`
	Frames   inOut  `json:"frames"`
	Messages inOut  `json:"messages"`
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
}

// pubsubStats is the chat Hub's pubsub.Stats: publishes made here and
// received from other nodes, messages delivered and refused here (Messages
// counts only what this node's own publishes and replies wrote).
type pubsubStats struct {
	Published    uint64 `json:"published"`
	Remote       uint64 `json:"remote"`
	Delivered    uint64 `json:"delivered"`
	Dropped      uint64 `json:"dropped"`
	BridgeErrors uint64 `json:"bridge_errors"`
}

type connStats struct {
	Total int   `json:"total"` // the engine's count, handshakes in progress included
	Chat  int64 `json:"chat"`
	Echo  int64 `json:"echo"`
}

type inOut struct {
	In  uint64 `json:"in"`
	Out uint64 `json:"out"`
}

type heapStats struct {
	AllocBytes uint64 `json:"alloc_bytes"` // live heap objects
	InuseBytes uint64 `json:"inuse_bytes"` // heap spans in use
	SysBytes   uint64 `json:"sys_bytes"`   // all memory obtained from the OS
	NumGC      uint32 `json:"num_gc"`
}

func (d *demo) stats() demoStats {
	h := d.h
	es := d.srv.Stats()
	ps := d.hub.Stats()
	rooms := make(map[string]int, len(chatRooms))
	for _, r := range chatRooms {
		rooms[r] = d.hub.Subscribers(roomTopic + r)
	}
	return demoStats{
		Rooms: rooms,
		PubSub: pubsubStats{Published: ps.Published, Remote: ps.Remote, Delivered: ps.Delivered,
			Dropped: ps.Dropped, BridgeErrors: ps.BridgeErrors},
		Wire: wireStats{Opened: es.Opened, Closed: es.Closed,
			Frames:   inOut{In: es.FramesIn, Out: es.FramesOut},
			Messages: inOut{In: es.MessagesIn, Out: es.MessagesOut},
			BytesIn:  es.BytesIn, BytesOut: es.BytesOut},
		UptimeSeconds: time.Since(d.started).Seconds(),
		Connections:   connStats{Total: d.srv.NumConns(), Chat: h.chat.Load(), Echo: h.echo.Load()},
		Messages:      inOut{In: h.msgsIn.Load(), Out: h.msgsOut.Load()},
		Bytes:         inOut{In: h.bytesIn.Load(), Out: h.bytesOut.Load()},
		Goroutines:    runtime.NumGoroutine(),
		Heap:          d.mem.get(time.Now()),
	}
}

func (d *demo) serveStats(w http.ResponseWriter) {
	b, err := json.MarshalIndent(d.stats(), "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(append(b, '\n'))
}

// memCache keeps runtime.ReadMemStats, which stops the world, to at most once a
// second however often /stats is polled.
type memCache struct {
	mu sync.Mutex
	at time.Time
	hs heapStats
}

func (m *memCache) get(now time.Time) heapStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.at.IsZero() || now.Sub(m.at) >= time.Second {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.hs = heapStats{AllocBytes: ms.HeapAlloc, InuseBytes: ms.HeapInuse, SysBytes: ms.Sys, NumGC: ms.NumGC}
		m.at = now
	}
	return m.hs
}
