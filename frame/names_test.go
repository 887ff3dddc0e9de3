package frame

import "testing"

func TestOpcode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op                      Opcode
		name                    string
		control, data, reserved bool
	}{
		{OpContinuation, "continuation", false, true, false},
		{OpText, "text", false, true, false},
		{OpBinary, "binary", false, true, false},
		{0x3, "reserved(0x3)", false, false, true},
		{0x4, "reserved(0x4)", false, false, true},
		{0x5, "reserved(0x5)", false, false, true},
		{0x6, "reserved(0x6)", false, false, true},
		{0x7, "reserved(0x7)", false, false, true},
		{OpClose, "close", true, false, false},
		{OpPing, "ping", true, false, false},
		{OpPong, "pong", true, false, false},
		{0xB, "reserved(0xB)", true, false, true},
		{0xC, "reserved(0xC)", true, false, true},
		{0xD, "reserved(0xD)", true, false, true},
		{0xE, "reserved(0xE)", true, false, true},
		{0xF, "reserved(0xF)", true, false, true},
		{0x1F, "Opcode(0x1f)", true, false, true},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.name {
			t.Errorf("Opcode(%#x).String() = %q, want %q", uint8(tt.op), got, tt.name)
		}
		if got := tt.op.IsControl(); got != tt.control {
			t.Errorf("Opcode(%#x).IsControl() = %v, want %v", uint8(tt.op), got, tt.control)
		}
		if got := tt.op.IsData(); got != tt.data {
			t.Errorf("Opcode(%#x).IsData() = %v, want %v", uint8(tt.op), got, tt.data)
		}
		if got := tt.op.IsReserved(); got != tt.reserved {
			t.Errorf("Opcode(%#x).IsReserved() = %v, want %v", uint8(tt.op), got, tt.reserved)
		}
	}
}

func TestStatusCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code  StatusCode
		name  string
		valid bool
	}{
		{0, "StatusCode(0)", false},
		{999, "StatusCode(999)", false},
		{StatusNormalClosure, "normal closure", true},
		{StatusGoingAway, "going away", true},
		{StatusProtocolError, "protocol error", true},
		{StatusUnsupportedData, "unsupported data", true},
		{1004, "StatusCode(1004)", false},
		{StatusNoStatusRcvd, "no status received", false},
		{StatusAbnormalClosure, "abnormal closure", false},
		{StatusInvalidFramePayloadData, "invalid frame payload data", true},
		{StatusPolicyViolation, "policy violation", true},
		{StatusMessageTooBig, "message too big", true},
		{StatusMandatoryExtension, "mandatory extension", true},
		{StatusInternalError, "internal error", true},
		{StatusServiceRestart, "service restart", true},
		{StatusTryAgainLater, "try again later", true},
		{StatusBadGateway, "bad gateway", true},
		{StatusTLSHandshake, "TLS handshake", false},
		{1016, "StatusCode(1016)", false},
		{2999, "StatusCode(2999)", false},
		{3000, "StatusCode(3000)", true},
		{4999, "StatusCode(4999)", true},
		{5000, "StatusCode(5000)", false},
		{65535, "StatusCode(65535)", false},
	}
	for _, tt := range tests {
		if got := tt.code.String(); got != tt.name {
			t.Errorf("StatusCode(%d).String() = %q, want %q", uint16(tt.code), got, tt.name)
		}
		if got := tt.code.IsValidOnWire(); got != tt.valid {
			t.Errorf("StatusCode(%d).IsValidOnWire() = %v, want %v", uint16(tt.code), got, tt.valid)
		}
	}
}

func TestNamesDoNotAllocate(t *testing.T) {
	var sink string
	for op := Opcode(0); op <= 0xF; op++ {
		if n := testing.AllocsPerRun(10, func() { sink = op.String() }); n != 0 {
			t.Errorf("Opcode(%#x).String() allocates %v times", uint8(op), n)
		}
	}
	for c := StatusNormalClosure; c <= StatusTLSHandshake; c++ {
		if c == 1004 {
			continue
		}
		if n := testing.AllocsPerRun(10, func() { sink = c.String() }); n != 0 {
			t.Errorf("StatusCode(%d).String() allocates %v times", uint16(c), n)
		}
	}
	_ = sink
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *ProtocolError
		code StatusCode
	}{
		{ErrReservedOpcode, StatusProtocolError},
		{ErrFragmentedControl, StatusProtocolError},
		{ErrControlTooLong, StatusProtocolError},
		{ErrLengthOverflow, StatusProtocolError},
		{ErrInvalidCloseCode, StatusProtocolError},
		{ErrInvalidClosePayload, StatusProtocolError},
		{ErrInvalidUTF8, StatusInvalidFramePayloadData},
		{ErrCloseReasonTooLong, 0},
	}
	for _, tt := range tests {
		if tt.err.Code != tt.code {
			t.Errorf("%v: Code = %d, want %d", tt.err, tt.err.Code, tt.code)
		}
		if tt.err.Error() == "" || tt.err.Error() == "frame: " {
			t.Errorf("%#v: empty message", tt.err)
		}
	}
}
