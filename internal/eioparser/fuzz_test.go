package eioparser_test

import (
	"bytes"
	"testing"

	"github.com/parley-chat/parley/internal/eioparser"
)

// specPayloads are payloads from the protocol's examples, and edge cases.
var specPayloads = []string{
	"4hello\x1e4€\x1ebAQIDBA==",
	"4hello",
	"4€",
	"bAQIDBA==",
	"0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}",
	"1", "2", "3", "2probe", "3probe", "5", "6",
	"4", "b", "4\x1e4", "40/admin,{\"token\":\"abc\"}", "42[\"chat\",\"hi\"]",
	"451-[\"ev\",{\"_placeholder\":true,\"num\":0}]\x1ebAQI=",
	"", "\x1e", "4a\x1e", "\x1e4a", "b!", "bAQ", "bAR=", "9", "4a\x1e\x1e4b", "bAQ\nIDBA==", "bAQID\r\nBA==",
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range specPayloads {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		packets, err := eioparser.DecodePayload(payload)
		if cerr := eioparser.CheckPayload(payload); (cerr == nil) != (err == nil) {
			t.Fatalf("CheckPayload says %v, DecodePayload %v", cerr, err)
		}
		n := 0
		for p, perr := range eioparser.Payload(payload) {
			if perr != nil {
				if err == nil {
					t.Fatalf("Payload fails at packet %d (%v), DecodePayload does not", n, perr)
				}
				break
			}
			if err == nil && (n >= len(packets) || p.Type != packets[n].Type || string(p.Data) != string(packets[n].Data) || p.Binary != packets[n].Binary) {
				t.Fatalf("Payload's packet %d differs from DecodePayload's", n)
			}
			n++
		}
		if err == nil && n != len(packets) {
			t.Fatalf("Payload yields %d packets, DecodePayload %d", n, len(packets))
		}
		if err != nil {
			if packets != nil {
				t.Fatalf("packets with error %v", err)
			}
			return
		}
		if len(packets) == 0 {
			t.Fatal("no packets and no error")
		}
		var enc []byte
		for _, p := range packets {
			enc = eioparser.AppendPayloadPacket(enc, p)
		}
		again, err := eioparser.DecodePayload(enc)
		if err != nil {
			t.Fatalf("re-decoding %q (from %q): %v", enc, payload, err)
		}
		if len(again) != len(packets) {
			t.Fatalf("re-decoded %d packets, want %d", len(again), len(packets))
		}
		for i, p := range packets {
			q := again[i]
			if p.Type != q.Type || p.Binary != q.Binary || !bytes.Equal(p.Data, q.Data) {
				t.Fatalf("packet %d: %+v became %+v", i, p, q)
			}
		}
		var enc2 []byte
		for _, p := range again {
			enc2 = eioparser.AppendPayloadPacket(enc2, p)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q then %q", enc, enc2)
		}
	})
}
