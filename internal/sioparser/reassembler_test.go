package sioparser

import (
	"errors"
	"strings"
	"testing"
)

// engineMsg is one Engine.IO message fed to a PacketReassembler.
type engineMsg struct {
	binary bool
	data   string
}

func textMsg(s string) engineMsg   { return engineMsg{data: s} }
func binaryMsg(s string) engineMsg { return engineMsg{binary: true, data: s} }

func feed(r *PacketReassembler, m engineMsg) (*Packet, error) {
	if m.binary {
		return r.AddBinary([]byte(m.data))
	}
	return r.AddText([]byte(m.data))
}

func TestPacketReassembler(t *testing.T) {
	const ph0, ph1 = `{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":1}`
	type want struct {
		text        string // re-encoded packet
		attachments []string
	}
	tests := []struct {
		name     string
		max      int
		msgs     []engineMsg
		want     []want // the packets completed, in order
		wantErr  error  // from the last message
		pendingN int    // Pending() at the end
	}{
		{
			name: "plain packets pass through",
			msgs: []engineMsg{textMsg(`0`), textMsg(`2["a"]`), textMsg(`3/x,1[]`)},
			want: []want{{text: `0`}, {text: `2["a"]`}, {text: `3/x,1[]`}},
		},
		{
			name: "suite binary event",
			msgs: []engineMsg{
				textMsg(`52-["message",` + ph0 + `,` + ph1 + `]`),
				binaryMsg("\x01\x02\x03"),
				binaryMsg("\x04\x05\x06"),
				textMsg(`2["next"]`),
			},
			want: []want{
				{text: `52-["message",` + ph0 + `,` + ph1 + `]`, attachments: []string{"\x01\x02\x03", "\x04\x05\x06"}},
				{text: `2["next"]`},
			},
		},
		{
			name: "suite binary event with ack",
			msgs: []engineMsg{
				textMsg(`52-789["message-with-ack",` + ph0 + `,` + ph1 + `]`),
				binaryMsg("\x01\x02\x03"),
				binaryMsg("\x04\x05\x06"),
			},
			want: []want{{text: `52-789["message-with-ack",` + ph0 + `,` + ph1 + `]`, attachments: []string{"\x01\x02\x03", "\x04\x05\x06"}}},
		},
		{
			name: "binary ack custom namespace",
			msgs: []engineMsg{textMsg(`61-/admin,1[` + ph0 + `]`), binaryMsg("\x01\x02\x03\x04")},
			want: []want{{text: `61-/admin,1[` + ph0 + `]`, attachments: []string{"\x01\x02\x03\x04"}}},
		},
		{
			name: "empty attachment",
			msgs: []engineMsg{textMsg(`51-["a",` + ph0 + `]`), binaryMsg("")},
			want: []want{{text: `51-["a",` + ph0 + `]`, attachments: []string{""}}},
		},
		{
			name: "zero attachments completes at once",
			msgs: []engineMsg{textMsg(`50-["a"]`)},
			want: []want{{text: `50-["a"]`, attachments: []string{}}},
		},
		{
			name:     "awaiting attachments",
			msgs:     []engineMsg{textMsg(`52-["a",` + ph0 + `,` + ph1 + `]`), binaryMsg("x")},
			pendingN: 1,
		},
		{
			name:    "binary without packet",
			msgs:    []engineMsg{binaryMsg("x")},
			wantErr: ErrUnexpectedAttachment,
		},
		{
			name:    "binary after complete packet",
			msgs:    []engineMsg{textMsg(`51-["a",` + ph0 + `]`), binaryMsg("x"), binaryMsg("y")},
			want:    []want{{text: `51-["a",` + ph0 + `]`, attachments: []string{"x"}}},
			wantErr: ErrUnexpectedAttachment,
		},
		{
			name:    "text while pending",
			msgs:    []engineMsg{textMsg(`52-["a",` + ph0 + `,` + ph1 + `]`), binaryMsg("x"), textMsg(`2["b"]`)},
			wantErr: ErrAttachmentsPending,
		},
		{
			name:    "invalid text",
			msgs:    []engineMsg{textMsg(`2{}`)},
			wantErr: ErrInvalidPacketPayload,
		},
		{
			name:    "attachments too large",
			max:     4,
			msgs:    []engineMsg{textMsg(`52-["a",` + ph0 + `,` + ph1 + `]`), binaryMsg("abc"), binaryMsg("de")},
			wantErr: ErrAttachmentsTooLarge,
		},
		{
			name: "attachments at limit",
			max:  5,
			msgs: []engineMsg{textMsg(`52-["a",` + ph0 + `,` + ph1 + `]`), binaryMsg("abc"), binaryMsg("de")},
			want: []want{{text: `52-["a",` + ph0 + `,` + ph1 + `]`, attachments: []string{"abc", "de"}}},
		},
		{
			name:    "placeholder out of range",
			msgs:    []engineMsg{textMsg(`51-["a",{"_placeholder":true,"num":1}]`), binaryMsg("x")},
			wantErr: ErrInvalidPlaceholder,
		},
		{
			name:    "placeholder with zero attachments",
			msgs:    []engineMsg{textMsg(`50-["a",` + ph0 + `]`)},
			wantErr: ErrInvalidPlaceholder,
		},
		{
			name:    "placeholder num string",
			msgs:    []engineMsg{textMsg(`51-["a",{"_placeholder":true,"num":"0"}]`), binaryMsg("x")},
			wantErr: ErrInvalidPlaceholder,
		},
		{
			name:    "placeholder num fraction",
			msgs:    []engineMsg{textMsg(`51-["a",{"_placeholder":true,"num":0.5}]`), binaryMsg("x")},
			wantErr: ErrInvalidPlaceholder,
		},
		{
			name:    "placeholder num missing",
			msgs:    []engineMsg{textMsg(`51-["a",{"_placeholder":true}]`), binaryMsg("x")},
			wantErr: ErrInvalidPlaceholder,
		},
		{
			name:    "escaped placeholder key nested",
			msgs:    []engineMsg{textMsg(`51-["a",{"b":[{"\u005fplaceholder":true,"num":3}]}]`), binaryMsg("x")},
			wantErr: ErrInvalidPlaceholder,
		},
		{
			name: "not a placeholder",
			msgs: []engineMsg{textMsg(`51-["a",{"_placeholder":false,"num":9},{"_placeholder":"true"},` + ph0 + `]`), binaryMsg("x")},
			want: []want{{text: `51-["a",{"_placeholder":false,"num":9},{"_placeholder":"true"},` + ph0 + `]`, attachments: []string{"x"}}},
		},
		{
			name: "unreferenced attachment",
			msgs: []engineMsg{textMsg(`52-["a",` + ph1 + `]`), binaryMsg("x"), binaryMsg("y")},
			want: []want{{text: `52-["a",` + ph1 + `]`, attachments: []string{"x", "y"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewPacketReassembler(tc.max)
			var got []*Packet
			var err error
			for i, m := range tc.msgs {
				var p *Packet
				p, err = feed(r, m)
				if err != nil && i != len(tc.msgs)-1 {
					t.Fatalf("message %d: %v", i, err)
				}
				if p != nil {
					got = append(got, p)
				}
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d packets, want %d", len(got), len(tc.want))
			}
			for i, p := range got {
				if enc := EncodePacket(nil, p); string(enc) != tc.want[i].text {
					t.Errorf("packet %d = %q, want %q", i, enc, tc.want[i].text)
				}
				if tc.want[i].attachments == nil {
					if p.Attachments != nil {
						t.Errorf("packet %d has attachments %q", i, p.Attachments)
					}
					continue
				}
				if len(p.Attachments) != len(tc.want[i].attachments) {
					t.Fatalf("packet %d: %d attachments, want %d", i, len(p.Attachments), len(tc.want[i].attachments))
				}
				for j, a := range p.Attachments {
					if string(a) != tc.want[i].attachments[j] {
						t.Errorf("packet %d attachment %d = %q, want %q", i, j, a, tc.want[i].attachments[j])
					}
				}
			}
			if n := r.Pending(); n != tc.pendingN {
				t.Errorf("Pending() = %d, want %d", n, tc.pendingN)
			}
		})
	}
}

func TestPacketReassemblerCopiesHeldText(t *testing.T) {
	r := NewPacketReassembler(0)
	buf := []byte(`51-["a",{"_placeholder":true,"num":0}]`)
	if p, err := r.AddText(buf); p != nil || err != nil {
		t.Fatalf("AddText = %v, %v", p, err)
	}
	for i := range buf {
		buf[i] = 'x' // the caller reuses its read buffer
	}
	p, err := r.AddBinary([]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `["a",{"_placeholder":true,"num":0}]`; string(p.Data) != want {
		t.Errorf("Data = %q, want %q", p.Data, want)
	}
}

func TestPacketReassemblerResetAfterError(t *testing.T) {
	tests := []struct {
		name string
		msgs []engineMsg
	}{
		{"text while pending", []engineMsg{textMsg(`52-["a"]`), textMsg(`2["b"]`)}},
		{"too large", []engineMsg{textMsg(`52-["a"]`), binaryMsg("0123456789")}},
		{"bad placeholder", []engineMsg{textMsg(`51-["a",{"_placeholder":true,"num":5}]`), binaryMsg("x")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewPacketReassembler(8)
			var err error
			for _, m := range tc.msgs {
				_, err = feed(r, m)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if n := r.Pending(); n != 0 {
				t.Errorf("Pending() = %d after error", n)
			}
			// The reassembler works again after an error.
			p, err := r.AddText([]byte(`2["c"]`))
			if err != nil || p == nil {
				t.Fatalf("AddText after error = %v, %v", p, err)
			}
		})
	}
}

func TestPacketReassemblerReset(t *testing.T) {
	r := NewPacketReassembler(0)
	if _, err := r.AddText([]byte(`51-["a",{"_placeholder":true,"num":0}]`)); err != nil {
		t.Fatal(err)
	}
	if n := r.Pending(); n != 1 {
		t.Fatalf("Pending() = %d, want 1", n)
	}
	r.Reset()
	if n := r.Pending(); n != 0 {
		t.Fatalf("Pending() = %d after Reset", n)
	}
	if _, err := r.AddBinary([]byte{1}); !errors.Is(err, ErrUnexpectedAttachment) {
		t.Fatalf("AddBinary after Reset: %v, want %v", err, ErrUnexpectedAttachment)
	}
}

func TestPacketReassemblerDefaultLimit(t *testing.T) {
	r := NewPacketReassembler(0)
	if _, err := r.AddText([]byte(`52-["a"]`)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddBinary(make([]byte, defaultMaxAttachmentBytes)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddBinary([]byte{1}); !errors.Is(err, ErrAttachmentsTooLarge) {
		t.Fatalf("error = %v, want %v", err, ErrAttachmentsTooLarge)
	}
}

func TestCheckPlaceholders(t *testing.T) {
	tests := []struct {
		data string
		ok   bool
	}{
		{`["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, true},
		{`[{"_placeholder":true,"num":2}]`, false},
		{` [ { "num" : 1 , "_placeholder" : true } ] `, true},
		{`[{"a":[{"b":{"_placeholder":true,"num":2}}]}]`, false},
		{`[{"\u005fplaceholder":true,"num":2}]`, false},
		{`[{"_placeholder":true,"_placeholder":false,"num":2}]`, true}, // last member counts
		{`[{"_placeholder":false,"_placeholder":true,"num":2}]`, false},
		{`[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`, true}, // a placeholder's members are not checked
		{`[{"x":{"_placeholder":true,"num":9},"_placeholder":true,"num":0}]`, true},
		{`[{"x":{"_placeholder":true,"num":9}}]`, false},
		{`[{"x":{"_placeholder":true,"num":9},"x":0}]`, true}, // shadowed by a duplicate key
		{`[{"x":0,"x":{"_placeholder":true,"num":9}}]`, false},
		{`[{"x":[{"_placeholder":true,"num":9}],"x":0}]`, true},
		{`[{"_placeholder":true,"num":1.0}]`, false},
		{`[{"_placeholder":true,"num":null}]`, false},
		{`[{"_placeholder":true}]`, false},
		{`[{"_placeholder":"true","num":7}]`, true},
		{`"\u0041"`, true},
		{`{}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.data, func(t *testing.T) {
			err := checkPlaceholders([]byte(tc.data), 2)
			if (err == nil) != tc.ok {
				t.Fatalf("checkPlaceholders = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPlaceholder) {
				t.Fatalf("error %v does not wrap %v", err, ErrInvalidPlaceholder)
			}
		})
	}
}

// TestCheckPlaceholdersDeep checks that a bad placeholder deep inside
// nested objects costs linear time.
func TestCheckPlaceholdersDeep(t *testing.T) {
	const depth = maxJSONDepth - 2
	data := []byte(`[` + strings.Repeat(`{"a":{"x":0},"b":`, depth) + `{"_placeholder":true,"num":9}` + strings.Repeat(`}`, depth) + `]`)
	if !validJSON(data) {
		t.Fatal("test data not valid")
	}
	if err := checkPlaceholders(data, 1); !errors.Is(err, ErrInvalidPlaceholder) {
		t.Fatalf("error = %v, want %v", err, ErrInvalidPlaceholder)
	}
}
