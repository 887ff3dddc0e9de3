package frame

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     []byte
		code   StatusCode
		reason string
		err    error
	}{
		{"empty", nil, StatusNoStatusRcvd, "", nil},
		{"one byte", []byte{0x03}, 0, "", ErrInvalidClosePayload},
		{"normal, no reason", []byte{0x03, 0xE8}, StatusNormalClosure, "", nil},
		{"going away with reason", []byte("\x03\xE9bye"), StatusGoingAway, "bye", nil},
		{"utf-8 reason", []byte("\x03\xE8\u00e9t\u00e9 \U0001F600"), StatusNormalClosure, "\u00e9t\u00e9 \U0001F600", nil},
		{"1014", []byte{0x03, 0xF6}, StatusBadGateway, "", nil},
		{"3000", []byte{0x0B, 0xB8}, 3000, "", nil},
		{"4999", []byte{0x13, 0x87, 'x'}, 4999, "x", nil},
		{"125 bytes", append([]byte{0x03, 0xE8}, strings.Repeat("r", 123)...), StatusNormalClosure, strings.Repeat("r", 123), nil},
		{"126 bytes", append([]byte{0x03, 0xE8}, strings.Repeat("r", 124)...), 0, "", ErrInvalidClosePayload},
		{"code 0", []byte{0x00, 0x00}, 0, "", ErrInvalidCloseCode},
		{"code 999", []byte{0x03, 0xE7}, 999, "", ErrInvalidCloseCode},
		{"code 1004", []byte{0x03, 0xEC}, 1004, "", ErrInvalidCloseCode},
		{"code 1005", []byte{0x03, 0xED}, StatusNoStatusRcvd, "", ErrInvalidCloseCode},
		{"code 1006", []byte{0x03, 0xEE}, StatusAbnormalClosure, "", ErrInvalidCloseCode},
		{"code 1015", []byte{0x03, 0xF7}, StatusTLSHandshake, "", ErrInvalidCloseCode},
		{"code 1016", []byte{0x03, 0xF8}, 1016, "", ErrInvalidCloseCode},
		{"code 2999", []byte{0x0B, 0xB7}, 2999, "", ErrInvalidCloseCode},
		{"code 5000", []byte{0x13, 0x88}, 5000, "", ErrInvalidCloseCode},
		{"code 65535", []byte{0xFF, 0xFF}, 65535, "", ErrInvalidCloseCode},
		{"bad utf-8", []byte("\x03\xE8ok\xC0\xAF"), StatusNormalClosure, "", ErrInvalidUTF8},
		{"cut utf-8", []byte("\x03\xE8\xE2\x82"), StatusNormalClosure, "", ErrInvalidUTF8},
		{"surrogate", []byte("\x03\xE8\xED\xA0\x80"), StatusNormalClosure, "", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, reason, err := ParseClose(tt.in)
			if err != tt.err || code != tt.code || string(reason) != tt.reason {
				t.Fatalf("ParseClose = %d, %q, %v; want %d, %q, %v", code, reason, err, tt.code, tt.reason, tt.err)
			}
			if err == nil && tt.code != StatusNoStatusRcvd {
				if len(reason) > 0 && &reason[0] != &tt.in[2] {
					t.Error("reason does not alias the payload")
				}
				if got, err := AppendClose(nil, code, string(reason)); err != nil || !bytes.Equal(got, tt.in) {
					t.Errorf("AppendClose round trip = % x, %v", got, err)
				}
			}
		})
	}
}

func TestAppendClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte
		err    error
	}{
		{"no status", 0, "", nil, nil},
		{"no status with reason", 0, "why", nil, ErrCloseReasonTooLong},
		{"normal", StatusNormalClosure, "", []byte{0x03, 0xE8}, nil},
		{"reason", StatusGoingAway, "bye", []byte("\x03\xE9bye"), nil},
		{"123 bytes", 4000, strings.Repeat("\u00e9", 61) + "x", append([]byte{0x0F, 0xA0}, strings.Repeat("\u00e9", 61)+"x"...), nil},
		{"124 bytes", 4000, strings.Repeat("\u00e9", 62), nil, ErrCloseReasonTooLong},
		{"1005 not on wire", StatusNoStatusRcvd, "", nil, ErrInvalidCloseCode},
		{"1006 not on wire", StatusAbnormalClosure, "", nil, ErrInvalidCloseCode},
		{"1015 not on wire", StatusTLSHandshake, "", nil, ErrInvalidCloseCode},
		{"2000", 2000, "", nil, ErrInvalidCloseCode},
		{"invalid code, long reason", 2000, strings.Repeat("r", 124), nil, ErrInvalidCloseCode},
		// Not judged here: the caller checks reasons from untrusted input.
		{"non-UTF-8 reason", StatusNormalClosure, "ok\xff", []byte("\x03\xE8ok\xff"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dst := []byte("hdr")
			got, err := AppendClose(dst, tt.code, tt.reason)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !bytes.Equal(got, append([]byte("hdr"), tt.want...)) {
				t.Fatalf("AppendClose = % x, want hdr + % x", got, tt.want)
			}
			if err != nil || tt.code == 0 || !ValidUTF8(got[5:]) {
				return
			}
			code, reason, err := ParseClose(got[3:])
			if err != nil || code != tt.code || string(reason) != tt.reason {
				t.Errorf("ParseClose of the result = %d, %q, %v", code, reason, err)
			}
		})
	}
}

func TestCloseNoAlloc(t *testing.T) {
	p := []byte("\x03\xE8going away \u00e9")
	dst := make([]byte, 0, MaxControlPayload)
	if n := testing.AllocsPerRun(100, func() {
		code, reason, err := ParseClose(p)
		if err != nil {
			t.Fatal(err)
		}
		if dst, err = AppendClose(dst[:0], code, "going away \u00e9"); err != nil {
			t.Fatal(err)
		}
		if _, err = AppendClose(dst[:0], 1005, "x"); err != ErrInvalidCloseCode {
			t.Fatal(err)
		}
		_ = reason
	}); n != 0 {
		t.Errorf("ParseClose/AppendClose allocate %v times per run", n)
	}
}
