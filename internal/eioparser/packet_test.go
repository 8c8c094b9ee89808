package eioparser_test

import (
	"bytes"
	"errors"
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
