package eioparser_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/eioparser"
)

func TestPacketTypeString(t *testing.T) {
	tests := []struct {
		t    eioparser.PacketType
		want string
	}{
		{eioparser.PacketOpen, "open"},
		{eioparser.PacketClose, "close"},
		{eioparser.PacketPing, "ping"},
		{eioparser.PacketPong, "pong"},
		{eioparser.PacketMessage, "message"},
		{eioparser.PacketUpgrade, "upgrade"},
		{eioparser.PacketNoop, "noop"},
		{eioparser.PacketType('7'), "PacketType(55)"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("PacketType(%d).String() = %q, want %q", byte(tt.t), got, tt.want)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    []eioparser.Packet
		err     error
	}{
		{"one text packet", "4hello", []eioparser.Packet{{Type: eioparser.PacketMessage, Data: []byte("hello")}}, nil},
		{"text and binary", "4€\x1ebAQIDBA==", []eioparser.Packet{
			{Type: eioparser.PacketMessage, Data: []byte("€")},
			{Type: eioparser.PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true},
		}, nil},
		{"ping probe", "2probe", []eioparser.Packet{{Type: eioparser.PacketPing, Data: []byte("probe")}}, nil},
		{"empty", "", nil, eioparser.ErrInvalidPayload},
		{"trailing separator", "4a\x1e", nil, eioparser.ErrInvalidPayload},
		{"bad base64", "b!", nil, eioparser.ErrInvalidPayload},
		{"line break in base64", "bAQ\nIDBA==", nil, eioparser.ErrInvalidPayload},
		{"unknown type", "9", nil, eioparser.ErrInvalidPacket},
		{"empty packet", "\x1e4a", nil, eioparser.ErrInvalidPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eioparser.DecodePayload([]byte(tt.payload))
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d packets, want %d", len(got), len(tt.want))
			}
			for i, p := range got {
				w := tt.want[i]
				if p.Type != w.Type || p.Binary != w.Binary || !bytes.Equal(p.Data, w.Data) {
					t.Errorf("packet %d: got %+v, want %+v", i, p, w)
				}
			}
		})
	}
}

func TestPayloadSize(t *testing.T) {
	for _, p := range []eioparser.Packet{
		{Type: eioparser.PacketMessage, Data: []byte("hello")},
		{Type: eioparser.PacketPing},
		{Type: eioparser.PacketMessage, Data: []byte{1, 2, 3, 4, 5}, Binary: true},
	} {
		// After a first packet, appending p adds its separator too.
		first := eioparser.AppendPayloadPacket(nil, eioparser.Packet{Type: eioparser.PacketNoop})
		if got, want := eioparser.PayloadSize(p), len(eioparser.AppendPayloadPacket(first, p))-len(first); got != want {
			t.Errorf("PayloadSize(%+v) = %d, want %d", p, got, want)
		}
	}
}

// TestPayloadHoldsNothingPerPacket checks that ranging over a payload of
// many small packets allocates nothing: a megabyte of pings must not become
// half a million Packets in memory.
func TestPayloadHoldsNothingPerPacket(t *testing.T) {
	body := []byte(strings.Repeat("2\x1e", 500_000) + "2")
	allocs := testing.AllocsPerRun(3, func() {
		if err := eioparser.CheckPayload(body); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range eioparser.Payload(body) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 500_001 {
			t.Fatalf("%d packets", n)
		}
	})
	if allocs > 4 {
		t.Errorf("%.0f allocations for a payload of 500,001 packets, want a few", allocs)
	}
}

func TestCheckPayload(t *testing.T) {
	long := "b" + strings.Repeat("QUJD", 700) // 2,800 base64 characters: several pieces
	cases := []struct {
		payload string
		ok      bool
	}{
		{"4hello", true},
		{"4a\x1e4b", true},
		{"bAQID", true},
		{long, true},
		{long + "=", false},
		{long[:len(long)-1] + "!", false},
		{"", false},
		{"4a\x1e", false},
		{"\x1e4a", false},
		{"9", false},
		{"b!", false},
		{"4a\x1e\x1e4b", false},
	}
	for _, tc := range cases {
		err := eioparser.CheckPayload([]byte(tc.payload))
		if (err == nil) != tc.ok {
			t.Errorf("CheckPayload(%.20q) = %v, want ok %v", tc.payload, err, tc.ok)
		}
		if _, derr := eioparser.DecodePayload([]byte(tc.payload)); (derr == nil) != (err == nil) {
			t.Errorf("CheckPayload(%.20q) = %v but DecodePayload = %v", tc.payload, err, derr)
		}
	}
}
