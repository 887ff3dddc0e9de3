package loadgen

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// A send-time stamp, carried in a message so that whoever receives it (the
// sender again after an echo, or every subscriber of a fan-out) can tell how
// long it took: "wts:" and 16 lowercase hex digits of the Unix time in ns at
// which the message was scheduled to go. Text, so it fits text messages and
// JSON strings; wall-clock time, so generators in several processes on one
// machine share it.
const (
	stampMark = "wts:"
	stampLen  = len(stampMark) + 16
	// maxRate caps Options.Rate (messages/s per run).
	maxRate = 1e6
)

// putStamp writes the stamp for ns at the start of b (len(b) >= stampLen).
func putStamp(b []byte, ns int64) {
	copy(b, stampMark)
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], uint64(ns))
	hex.Encode(b[len(stampMark):stampLen], raw[:])
}

// findStamp returns the send time of the first stamp in p; ok is false when p
// holds none, or a malformed one.
func findStamp(p []byte) (ns int64, ok bool) {
	i := bytes.Index(p, []byte(stampMark))
	if i < 0 || len(p)-i < stampLen {
		return 0, false
	}
	var raw [8]byte
	if _, err := hex.Decode(raw[:], p[i+len(stampMark):i+stampLen]); err != nil {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(raw[:])), true
}

// fanoutPayload is a fan-out message: chat JSON, as weir serve's /chat takes
// and broadcasts, whose text is a stamp (at the returned offset) padded with
// 'x' so that the whole is about size bytes.
func fanoutPayload(size int) (msg []byte, at int) {
	head := `{"name":"weir-bench","text":"`
	pad := max(size-len(head)-stampLen-len(`"}`), 0)
	msg = fmt.Appendf(nil, "%s%s%s\"}", head, bytes.Repeat([]byte{'0'}, stampLen), bytes.Repeat([]byte{'x'}, pad))
	return msg, len(head)
}
