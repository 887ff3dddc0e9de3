package frame

import "strconv"

// Opcode is the 4-bit frame type of RFC 6455 §5.2.
type Opcode uint8

// Opcodes defined by RFC 6455 §5.2; 0x3-0x7 and 0xB-0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// opcodeNames holds every 4-bit opcode's name so that String never allocates
// for a value that can appear on the wire.
var opcodeNames = [16]string{
	"continuation", "text", "binary",
	"reserved(0x3)", "reserved(0x4)", "reserved(0x5)", "reserved(0x6)", "reserved(0x7)",
	"close", "ping", "pong",
	"reserved(0xB)", "reserved(0xC)", "reserved(0xD)", "reserved(0xE)", "reserved(0xF)",
}

// String returns the opcode's name for logs and errors, "reserved(0xN)" for
// the reserved ones. It allocates only for values wider than 4 bits, which
// no frame can carry.
func (o Opcode) String() string {
	if int(o) < len(opcodeNames) {
		return opcodeNames[o]
	}
	return "Opcode(0x" + strconv.FormatUint(uint64(o), 16) + ")"
}

// IsControl reports whether o is a control opcode (RFC 6455 §5.5: the most
// significant opcode bit is set). Control frames must not be fragmented and
// carry at most [MaxControlPayload] bytes.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsData reports whether o is a data opcode defined by RFC 6455 §5.6
// (text, binary) or the continuation of one (§5.4).
func (o Opcode) IsData() bool { return o <= OpBinary }

// IsReserved reports whether o is not defined by RFC 6455 (0x3-0x7, 0xB-0xF,
// and anything wider than 4 bits). A reserved opcode in a frame fails the
// connection (§5.2) unless an extension defines it.
func (o Opcode) IsReserved() bool {
	return o > OpPong || (o > OpBinary && o < OpClose)
}
