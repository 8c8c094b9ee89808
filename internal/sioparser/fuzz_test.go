package sioparser

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// fuzzSeeds returns the valid and invalid packet texts of the unit
// tests, the fuzzers' seeds.
func fuzzSeeds() []string {
	seeds := []string{
		`0/random`, `1/custom`, `2/,["a"]`, `2012["a"]`, `50-["a"]`, `4"oops"`, `4`, `2 [ "a" , 1 ]`,
		`abc`, `2{}`, `2abc["message-with-ack",1,"2",{"3":[false]}]`, `9`, `3[]`, `51001-["a"]`, "2/\xff,[\"a\"]",
		`29007199254740991["a"]`, `29007199254740992["a"]`, `5-["a"]`, `2["a\u00e9\"",{"b":[1.5e3,null,true]}]`,
	}
	for _, tc := range specPackets {
		seeds = append(seeds, tc.text)
	}
	return seeds
}

// FuzzDecodePacket checks that DecodePacket never panics and that a decoded
// packet re-encodes to text that decodes to the same packet.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		orig := bytes.Clone(text)
		p, n, err := DecodePacket(text)
		if !bytes.Equal(text, orig) {
			t.Fatal("DecodePacket modified its input")
		}
		if err != nil {
			if p != nil || n != 0 {
				t.Fatalf("error %v with packet %+v, %d attachments", err, p, n)
			}
			return
		}
		if n < 0 || n > MaxPacketAttachments {
			t.Fatalf("%d attachments", n)
		}
		if n > 0 && p.Type != PacketBinaryEvent && p.Type != PacketBinaryAck {
			t.Fatalf("%d attachments on %v", n, p.Type)
		}
		if p.HasID && p.ID > MaxAckID || !strings.HasPrefix(p.Namespace, "/") {
			t.Fatalf("bad packet %+v", p)
		}
		if p.Type == PacketEvent || p.Type == PacketBinaryEvent {
			if _, _, err := EventName(p.Data); err != nil {
				t.Fatalf("EventName of decoded event: %v", err)
			}
		}
		p.Attachments = make([][]byte, n)
		enc := EncodePacket(nil, p)
		p2, n2, err := DecodePacket(enc)
		if err != nil {
			t.Fatalf("re-decoding %q (from %q): %v", enc, text, err)
		}
		if n2 != n || p2.Type != p.Type || p2.Namespace != p.Namespace || p2.ID != p.ID || p2.HasID != p.HasID ||
			!bytes.Equal(p2.Data, p.Data) || (p2.Data == nil) != (p.Data == nil) {
			t.Fatalf("%q decoded as %+v (%d), re-encoded as %q, decoded as %+v (%d)", text, p, n, enc, p2, n2)
		}
		p2.Attachments = make([][]byte, n2)
		if enc2 := EncodePacket(nil, p2); !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding not stable: %q then %q", enc, enc2)
		}
	})
}

// fuzzMessages cuts fuzz input into messages: each starts with a
// header byte whose low bit says binary and whose other bits give the length
// of the message that follows (shorter if the input ends).
func fuzzMessages(data []byte) []engineMsg {
	var msgs []engineMsg
	for len(data) > 0 {
		h := data[0]
		n := min(int(h>>1), len(data)-1)
		msgs = append(msgs, engineMsg{binary: h&1 == 1, data: string(data[1 : 1+n])})
		data = data[1+n:]
	}
	return msgs
}

func fuzzEncodeMessages(msgs ...engineMsg) []byte {
	var b []byte
	for _, m := range msgs {
		if len(m.data) > 127 {
			panic("seed message too long")
		}
		h := byte(len(m.data)) << 1
		if m.binary {
			h |= 1
		}
		b = append(b, h)
		b = append(b, m.data...)
	}
	return b
}

// FuzzReassembler feeds a PacketReassembler a sequence of text and binary
// messages cut from the input, reusing each text buffer after the call, and
// checks its results against the packets' announcements.
func FuzzReassembler(f *testing.F) {
	const ph0, ph1 = `{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":1}`
	for _, s := range fuzzSeeds() {
		if len(s) <= 127 {
			f.Add(fuzzEncodeMessages(textMsg(s)))
		}
	}
	f.Add(fuzzEncodeMessages(textMsg(`52-["message",`+ph0+`,`+ph1+`]`), binaryMsg("\x01\x02\x03"), binaryMsg("\x04\x05\x06"), textMsg(`2["a"]`)))
	f.Add(fuzzEncodeMessages(textMsg(`61-/admin,1[`+ph0+`]`), binaryMsg("0123456789012345678901234567890123456789")))
	f.Add(fuzzEncodeMessages(textMsg(`52-["a",`+ph1+`]`), binaryMsg("x"), textMsg(`2["b"]`), binaryMsg("y")))
	f.Add(fuzzEncodeMessages(binaryMsg("x"), textMsg(`51-["a",{"_placeholder":true,"num":1}]`), binaryMsg("")))
	f.Add(fuzzEncodeMessages(textMsg(`50-["a"]`), textMsg(`1`)))

	const maxBytes = 64
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewPacketReassembler(maxBytes)
		var held []byte // Data of the packet awaiting attachments
		want := 0       // attachments it announced
		for i, m := range fuzzMessages(data) {
			before := r.Pending()
			var p *Packet
			var err error
			if m.binary {
				p, err = r.AddBinary([]byte(m.data))
			} else {
				buf := []byte(m.data)
				p, err = r.AddText(buf)
				if err == nil && p == nil {
					q, n, _ := DecodePacket([]byte(m.data))
					held, want = bytes.Clone(q.Data), n
				}
				for j := range buf {
					buf[j] = 0 // reuse the buffer
				}
			}
			after := r.Pending()
			switch {
			case err != nil:
				if p != nil || after != 0 {
					t.Fatalf("message %d: error %v with packet %v, %d pending", i, err, p, after)
				}
				if m.binary && before == 0 && !errors.Is(err, ErrUnexpectedAttachment) {
					t.Fatalf("message %d: error %v for an unexpected attachment", i, err)
				}
				if !m.binary && before > 0 && !errors.Is(err, ErrAttachmentsPending) {
					t.Fatalf("message %d: error %v for text while pending", i, err)
				}
			case p == nil:
				if after == 0 || after > MaxPacketAttachments {
					t.Fatalf("message %d: no packet but %d pending", i, after)
				}
				if m.binary && after != before-1 {
					t.Fatalf("message %d: pending %d -> %d", i, before, after)
				}
			default:
				if after != 0 {
					t.Fatalf("message %d: packet with %d pending", i, after)
				}
				binary := p.Type == PacketBinaryEvent || p.Type == PacketBinaryAck
				if binary != (p.Attachments != nil) {
					t.Fatalf("message %d: %v with attachments %q", i, p.Type, p.Attachments)
				}
				if m.binary {
					if before != 1 || len(p.Attachments) != want || !bytes.Equal(p.Data, held) {
						t.Fatalf("message %d: completed %+v, want %d attachments and data %q", i, p, want, held)
					}
					total := 0
					for _, a := range p.Attachments {
						total += len(a)
					}
					if total > maxBytes {
						t.Fatalf("message %d: %d attachment bytes", i, total)
					}
				} else if len(p.Attachments) != 0 {
					t.Fatalf("message %d: text completed with attachments", i)
				}
			}
		}
	})
}

// checkPlaceholdersRef is checkPlaceholders written with
// encoding/json.
func checkPlaceholdersRef(data []byte, n int) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return err
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		case map[string]any:
			if v["_placeholder"] == true {
				num, _ := v["num"].(json.Number)
				if _, ok := placeholderIndex([]byte(num), n); !ok {
					return ErrInvalidPlaceholder
				}
				return nil
			}
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v)
}

// FuzzJSON checks the JSON scanner against encoding/json: validity as
// json.Valid, SplitArgs as unmarshaling into []json.RawMessage, EventName's
// name as unmarshaling into a string, and the placeholder check against
// checkPlaceholdersRef.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`[]`, `["a",1,{"b":[true,false,null]},-1.5e-3,"\u00e9\n"]`, ` [ "x" ] `, `{"a":1}`, `"s"`, `[1,]`, `[01]`,
		`["\ud800"]`, "[\"\xff\"]", `[1e400]`, `[[[[[]]]]]`, `{"_placeholder":true,"num":0}`,
		`["a",{"x":{"_placeholder":true,"num":5},"_placeholder":true,"num":1}]`, `[{"\u005fplaceholder":true,"num":2}]`,
		`{"_placeholder":true,"_placeholder":false,"num":9}`, `[{"_placeholder":true}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		if got := validJSON(data); got != valid {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", data, got, valid)
		}
		if valid {
			got := checkPlaceholders(data, 2)
			want := checkPlaceholdersRef(data, 2)
			if (got == nil) != (want == nil) {
				t.Fatalf("checkPlaceholders(%q) = %v, want %v", data, got, want)
			}
		}
		args, err := SplitArgs(data)
		var want []json.RawMessage
		isArray := valid && data[skipWS(data, 0)] == '['
		if isArray {
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatalf("unmarshal %q: %v", data, err)
			}
		}
		if (err == nil) != isArray {
			t.Fatalf("SplitArgs(%q) error %v; valid array: %v", data, err, isArray)
		}
		if err != nil {
			return
		}
		if len(args) != len(want) {
			t.Fatalf("SplitArgs(%q) = %q, want %q", data, args, want)
		}
		for i := range args {
			if !bytes.Equal(args[i], want[i]) {
				t.Fatalf("SplitArgs(%q)[%d] = %q, want %q", data, i, args[i], want[i])
			}
		}
		name, rest, err := EventName(data)
		var wantName string
		nameErr := error(ErrInvalidEventArgs)
		if len(want) > 0 && want[0][0] == '"' {
			nameErr = json.Unmarshal(want[0], &wantName)
		}
		if (err == nil) != (nameErr == nil) || name != wantName || (err == nil && len(rest) != len(want)-1) {
			t.Fatalf("EventName(%q) = %q, %d args, %v; want %q, %v", data, name, len(rest), err, wantName, nameErr)
		}
	})
}

// FuzzAppendString checks appendString against a json.Encoder with
// HTML escaping off.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "<>&", "\u2028\u2029", "\x00\x1f\x7f\"\\", "\xff\xc3", "日本\U0001F600", "\ud7ff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := appendString([]byte("x"), s)
		if string(got[1:])+"\n" != want.String() {
			t.Fatalf("appendString(%q) = %s, want %s", s, got[1:], want.String())
		}
	})
}

// resolvePlaceholderRef is ResolvePlaceholder written with a
// json.Decoder.
func resolvePlaceholderRef(raw []byte, attachments [][]byte) ([]byte, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	members := map[string]json.RawMessage{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		if _, dup := members[key]; dup {
			return nil, false
		}
		members[key] = v
	}
	if tok, err := d.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false
	}
	if len(members) != 2 || string(members["_placeholder"]) != "true" {
		return nil, false
	}
	i, ok := placeholderIndex(members["num"], len(attachments))
	if !ok {
		return nil, false
	}
	return attachments[i], true
}

// FuzzResolvePlaceholder checks ResolvePlaceholder against
// resolvePlaceholderRef.
func FuzzResolvePlaceholder(f *testing.F) {
	for _, s := range []string{
		`{"_placeholder":true,"num":0}`, `{"num":1,"_placeholder":true}`, ` { "_placeholder" : true , "num" : 2 } `,
		`{"\u005fplaceholder":true,"num":0}`, `{"_placeholder":true,"num":0,}`, `{"_placeholder":true,"num":0,"x":1}`,
		`{"num":0,"num":1}`, `{"_placeholder":true,"num":01}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	att := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := ResolvePlaceholder(raw, att)
		want, wantOK := resolvePlaceholderRef(raw, att)
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("ResolvePlaceholder(%q) = %q, %v; want %q, %v", raw, got, ok, want, wantOK)
		}
	})
}
