package sioparser

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

type testMessage struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func TestAppendEventArgs(t *testing.T) {
	self := []any{1}
	self[0] = self
	tests := []struct {
		name      string
		prefix    string
		attached  int // attachments passed in
		args      []any
		want      string
		wantAtt   []string // attachments appended
		wantErrIs error
	}{
		{name: "no args", args: nil, want: `[]`},
		{name: "strings", args: []any{"chat-message", "hello"}, want: `["chat-message","hello"]`},
		{name: "html not escaped", args: []any{"<b>&amp;</b>"}, want: `["<b>&amp;</b>"]`},
		{name: "struct html not escaped", args: []any{testMessage{"<alice>", "a&b"}}, want: `[{"name":"<alice>","message":"a&b"}]`},
		{name: "struct", args: []any{"chat-message", testMessage{"alice", "hello world"}},
			want: `["chat-message",{"name":"alice","message":"hello world"}]`},
		{name: "pointer to struct", args: []any{&testMessage{"a", "b"}}, want: `[{"name":"a","message":"b"}]`},
		{name: "scalars", args: []any{nil, true, false, 1, int64(-2), int32(3), uint(4), uint64(5), uint32(6), 1.5, float32(0.1), int8(7)},
			want: `[null,true,false,1,-2,3,4,5,6,1.5,0.1,7]`},
		{name: "marshaler", args: []any{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}, want: `["2024-01-02T03:04:05Z"]`},
		{name: "raw message", args: []any{"ev", json.RawMessage(` {"a": [1, 2]} `)}, want: `["ev", {"a": [1, 2]} ]`},
		{name: "empty raw message", args: []any{json.RawMessage(nil), json.RawMessage{}}, want: `[null,null]`},
		{name: "string escapes", args: []any{"a\"b\\c\n\x01\u2028é\xff"}, want: `["a\"b\\c\n\u0001\u2028é\ufffd"]`},
		{name: "appends to prefix", prefix: `2["x"]`, args: []any{"a"}, want: `2["x"]["a"]`},

		{name: "binary", args: []any{"file", []byte{1, 2}}, want: `["file",{"_placeholder":true,"num":0}]`, wantAtt: []string{"\x01\x02"}},
		{name: "binary numbering continues", attached: 2, args: []any{"file", []byte{1}, []byte{}},
			want: `["file",{"_placeholder":true,"num":2},{"_placeholder":true,"num":3}]`, wantAtt: []string{"\x01", ""}},
		{name: "binary nested", args: []any{"e", map[string]any{"z": []byte("z"), "a": []any{"s", []byte("a")}, "m": nil}},
			want:    `["e",{"a":["s",{"_placeholder":true,"num":0}],"m":null,"z":{"_placeholder":true,"num":1}}]`,
			wantAtt: []string{"a", "z"}},
		{name: "binary slice", args: []any{[][]byte{[]byte("a"), []byte("b")}},
			want: `[[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]]`, wantAtt: []string{"a", "b"}},
		{name: "binary in struct is base64", args: []any{struct{ B []byte }{[]byte{1, 2, 3}}}, want: `[{"B":"AQID"}]`},
		{name: "nil containers", args: []any{[]any(nil), map[string]any(nil), [][]byte(nil)}, want: `[null,null,null]`},
		{name: "map keys escaped and sorted", args: []any{map[string]any{"b<": 1, "a\"": 2}}, want: `[{"a\"":2,"b<":1}]`},

		{name: "invalid raw message", prefix: "2", attached: 1, args: []any{"a", []byte{1}, json.RawMessage(`{`)}, want: "2", wantErrIs: ErrInvalidArgJSON},
		{name: "NaN", args: []any{math.NaN()}, want: ``, wantErrIs: ErrInvalidArgJSON},
		{name: "Inf float32", args: []any{float32(math.Inf(1))}, want: ``, wantErrIs: ErrInvalidArgJSON},
		{name: "unsupported type", args: []any{"a", make(chan int)}, want: ``, wantErrIs: ErrInvalidArgJSON},
		{name: "nested NaN", args: []any{map[string]any{"a": []any{math.Inf(-1)}}}, want: ``, wantErrIs: ErrInvalidArgJSON},
		{name: "self reference", args: []any{self}, want: ``, wantErrIs: ErrInvalidArgJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte(tc.prefix)
			att := make([][]byte, tc.attached)
			got, gotAtt, err := AppendEventArgs(dst, att, tc.args...)
			if !errors.Is(err, tc.wantErrIs) {
				t.Fatalf("error = %v, want %v", err, tc.wantErrIs)
			}
			if string(got) != tc.want {
				t.Errorf("AppendEventArgs = %q, want %q", got, tc.want)
			}
			if err != nil {
				if len(gotAtt) != tc.attached {
					t.Errorf("attachments = %d after error, want %d", len(gotAtt), tc.attached)
				}
				return
			}
			if !json.Valid(got[len(tc.prefix):]) {
				t.Errorf("output %q is not valid JSON", got)
			}
			if len(gotAtt) != tc.attached+len(tc.wantAtt) {
				t.Fatalf("attachments = %d, want %d", len(gotAtt), tc.attached+len(tc.wantAtt))
			}
			for i, a := range gotAtt[tc.attached:] {
				if string(a) != tc.wantAtt[i] {
					t.Errorf("attachment %d = %q, want %q", i, a, tc.wantAtt[i])
				}
			}
		})
	}
}

// TestAppendEventArgsMatchesEncodingJSON checks the reflection-free paths
// against a json.Encoder with HTML escaping off.
func TestAppendEventArgsMatchesEncodingJSON(t *testing.T) {
	values := []any{
		"", "plain", "<>&", "\u2028\u2029", "\x00\x1f\x7f", "\b\f\n\r\t", "\xff\xfe", "a\xc3", "日本語", "\U0001F600",
		0.0, math.Copysign(0, -1), 1.0, -1.5, 0.1, 1e20, 1e21, 1e-6, 1e-7, 123456789.123, math.MaxFloat64, math.SmallestNonzeroFloat64,
		float32(0.1), float32(1e20), float32(1e21), float32(1e-7), float32(math.MaxFloat32),
		math.MaxInt64, math.MinInt64, uint64(math.MaxUint64), true, nil,
		[]any{"a", 1.0, nil}, map[string]any{"k": "<v>", "\xff": 1.0},
	}
	for _, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode([]any{v}); err != nil {
			t.Fatal(err)
		}
		got, _, err := AppendEventArgs(nil, nil, v)
		if err != nil {
			t.Fatalf("AppendEventArgs(%#v): %v", v, err)
		}
		if w := strings.TrimSuffix(want.String(), "\n"); string(got) != w {
			t.Errorf("AppendEventArgs(%#v) = %s, want %s", v, got, w)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"empty", `[]`, []string{}},
		{"empty spaced", " [ \n ] ", []string{}},
		{"one", `["foo"]`, []string{`"foo"`}},
		{"many", `["chat",{"a":[1,{"b":"]"}]},null,true,false,-1.5e3,"x\"]"]`,
			[]string{`"chat"`, `{"a":[1,{"b":"]"}]}`, `null`, `true`, `false`, `-1.5e3`, `"x\"]"`}},
		{"whitespace", "\t[ 1 ,\n\"a\" , [ ] ]\r\n", []string{`1`, `"a"`, `[ ]`}},
		{"nested arrays", `[[[]],[[1]]]`, []string{`[[]]`, `[[1]]`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitArgs(json.RawMessage(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != len(tc.want) {
				t.Fatalf("SplitArgs = %q, want %q", got, tc.want)
			}
			for i := range got {
				if string(got[i]) != tc.want[i] {
					t.Errorf("element %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestSplitArgsInvalid(t *testing.T) {
	tests := []struct{ name, data string }{
		{"empty input", ``},
		{"whitespace", `  `},
		{"object", `{}`},
		{"string", `"a"`},
		{"unterminated", `["a"`},
		{"unterminated after comma", `["a",`},
		{"trailing comma", `["a",]`},
		{"leading comma", `[,1]`},
		{"missing comma", `[1 2]`},
		{"trailing data", `[1]x`},
		{"two arrays", `[1][2]`},
		{"empty then data", `[] 1`},
		{"bad element", `[tru]`},
		{"bad nested", `[{"a"}]`},
		{"colon", `[1:2]`},
		{"unterminated string", `["a]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitArgs(json.RawMessage(tc.data))
			if !errors.Is(err, ErrInvalidEventArgs) {
				t.Fatalf("SplitArgs(%q) = %q, %v; want %v", tc.data, got, err, ErrInvalidEventArgs)
			}
		})
	}
}

func TestEventName(t *testing.T) {
	tests := []struct {
		name, data string
		wantName   string
		wantArgs   []string
		wantErr    bool
	}{
		{name: "name only", data: `["foo"]`, wantName: "foo", wantArgs: []string{}},
		{name: "with args", data: `["chat-message",{"name":"alice"},2]`, wantName: "chat-message", wantArgs: []string{`{"name":"alice"}`, `2`}},
		{name: "escaped name", data: `["a\"b\u00e9\n"]`, wantName: "a\"bé\n", wantArgs: []string{}},
		{name: "unicode name", data: `["日本"]`, wantName: "日本", wantArgs: []string{}},
		{name: "invalid utf-8 name", data: "[\"a\xff\"]", wantName: "a\ufffd", wantArgs: []string{}},
		{name: "empty name", data: `[""]`, wantName: "", wantArgs: []string{}},
		{name: "empty array", data: `[]`, wantErr: true},
		{name: "number name", data: `[1]`, wantErr: true},
		{name: "not array", data: `{"a":1}`, wantErr: true},
		{name: "invalid", data: `["a"`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name, args, err := EventName(json.RawMessage(tc.data))
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidEventArgs) {
					t.Fatalf("EventName(%q) = %q, %q, %v; want %v", tc.data, name, args, err, ErrInvalidEventArgs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.wantName {
				t.Errorf("name = %q, want %q", name, tc.wantName)
			}
			if len(args) != len(tc.wantArgs) {
				t.Fatalf("args = %q, want %q", args, tc.wantArgs)
			}
			for i := range args {
				if string(args[i]) != tc.wantArgs[i] {
					t.Errorf("arg %d = %q, want %q", i, args[i], tc.wantArgs[i])
				}
			}
		})
	}
}

func TestResolvePlaceholder(t *testing.T) {
	att := [][]byte{[]byte("zero"), []byte("one")}
	tests := []struct {
		name, raw string
		want      string // "" for not resolved
	}{
		{"canonical", `{"_placeholder":true,"num":0}`, "zero"},
		{"second", `{"_placeholder":true,"num":1}`, "one"},
		{"reversed", `{"num":1,"_placeholder":true}`, "one"},
		{"whitespace", " \n{ \"_placeholder\" :\ttrue ,\r\"num\" : 0 } \n", "zero"},
		{"escaped key", `{"\u005fplaceholder":true,"n\u0075m":1}`, "one"},

		{"out of range", `{"_placeholder":true,"num":2}`, ""},
		{"negative", `{"_placeholder":true,"num":-1}`, ""},
		{"fraction", `{"_placeholder":true,"num":0.0}`, ""},
		{"exponent", `{"_placeholder":true,"num":1e0}`, ""},
		{"leading zero", `{"_placeholder":true,"num":01}`, ""},
		{"huge", `{"_placeholder":true,"num":99999999999999999999}`, ""},
		{"num string", `{"_placeholder":true,"num":"0"}`, ""},
		{"flag false", `{"_placeholder":false,"num":0}`, ""},
		{"flag string", `{"_placeholder":"true","num":0}`, ""},
		{"flag 1", `{"_placeholder":1,"num":0}`, ""},
		{"missing num", `{"_placeholder":true}`, ""},
		{"missing flag", `{"num":0}`, ""},
		{"extra member", `{"_placeholder":true,"num":0,"x":1}`, ""},
		{"extra member first", `{"x":1,"_placeholder":true,"num":0}`, ""},
		{"duplicate flag", `{"_placeholder":true,"_placeholder":true}`, ""},
		{"duplicate num", `{"num":0,"num":1}`, ""},
		{"trailing comma", `{"_placeholder":true,"num":0,}`, ""},
		{"trailing data", `{"_placeholder":true,"num":0}x`, ""},
		{"unterminated", `{"_placeholder":true,"num":0`, ""},
		{"in array", `[{"_placeholder":true,"num":0}]`, ""},
		{"empty object", `{}`, ""},
		{"empty", ``, ""},
		{"string", `"zero"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ResolvePlaceholder(json.RawMessage(tc.raw), att)
			if ok != (tc.want != "") || string(got) != tc.want {
				t.Errorf("ResolvePlaceholder(%q) = %q, %v; want %q", tc.raw, got, ok, tc.want)
			}
		})
	}
	if _, ok := ResolvePlaceholder(json.RawMessage(`{"_placeholder":true,"num":0}`), nil); ok {
		t.Error("resolved a placeholder without attachments")
	}
}

// TestAppendEventArgsRoundTrip encodes binary arguments and resolves them
// back through the decoding helpers.
func TestAppendEventArgsRoundTrip(t *testing.T) {
	data, att, err := AppendEventArgs(nil, nil, "upload", []byte{1, 2}, "name.bin", []byte{3})
	if err != nil {
		t.Fatal(err)
	}
	text := EncodePacket(nil, &Packet{Type: PacketBinaryEvent, Namespace: "/files", ID: 7, HasID: true, Data: data, Attachments: att})
	if want := `52-/files,7["upload",{"_placeholder":true,"num":0},"name.bin",{"_placeholder":true,"num":1}]`; string(text) != want {
		t.Fatalf("encoded %q, want %q", text, want)
	}
	r := NewPacketReassembler(0)
	if p, err := r.AddText(text); p != nil || err != nil {
		t.Fatalf("AddText = %v, %v", p, err)
	}
	var p *Packet
	for _, a := range att {
		if p, err = r.AddBinary(a); err != nil {
			t.Fatal(err)
		}
	}
	if p == nil {
		t.Fatal("packet not complete")
	}
	name, args, err := EventName(p.Data)
	if err != nil || name != "upload" || len(args) != 3 {
		t.Fatalf("EventName = %q, %q, %v", name, args, err)
	}
	if b, ok := ResolvePlaceholder(args[0], p.Attachments); !ok || !bytes.Equal(b, []byte{1, 2}) {
		t.Errorf("arg 0 = %v, %v", b, ok)
	}
	if b, ok := ResolvePlaceholder(args[2], p.Attachments); !ok || !bytes.Equal(b, []byte{3}) {
		t.Errorf("arg 2 = %v, %v", b, ok)
	}
	if _, ok := ResolvePlaceholder(args[1], p.Attachments); ok {
		t.Error("resolved a string")
	}
}

func TestValidJSON(t *testing.T) {
	inputs := []string{
		``, ` `, `0`, `-0`, `-`, `01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-2`, `-1.5e+10`, `1x`,
		`"`, `""`, `"\"`, `"\\"`, `"\u00e9"`, `"\u00g9"`, `"\u00e"`, `"\/"`, `"\a"`, "\"\x1f\"", "\"\x7f\"", "\"\xff\"",
		`true`, `tru`, `truex`, `null`, `nul`, `false`, `False`,
		`[]`, `[`, `]`, `[1,]`, `[,]`, `[1 2]`, `[[]]`, `[[]`, `{}`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`,
		`{1:2}`, `{"a":1}`, ` {"a" : [1, {"b": null}]} `, "\t\n\r[]\t\n\r", "\v[]", `[] []`, `{}}`,
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
		strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
		strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth),
		strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1),
	}
	for _, in := range inputs {
		if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
			name := in
			if len(name) > 40 {
				name = name[:40] + "..."
			}
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", name, got, want)
		}
	}
}
