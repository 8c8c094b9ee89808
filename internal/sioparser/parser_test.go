package sioparser

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// specPackets are the packets of the protocol spec's "Packet encoding"
// and "Sample session" sections, and of the official test suite, with their
// encodings (without the Engine.IO '4' prefix).
var specPackets = []struct {
	name    string
	text    string
	p       Packet
	attachN int
}{
	{"connect main", `0`, Packet{Type: PacketConnect, Namespace: "/"}, 0},
	{"connect custom sid", `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`,
		Packet{Type: PacketConnect, Namespace: "/admin", Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}, 0},
	{"connect main sid", `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`,
		Packet{Type: PacketConnect, Namespace: "/", Data: []byte(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}, 0},
	{"connect main payload", `0{"token":"123"}`,
		Packet{Type: PacketConnect, Namespace: "/", Data: []byte(`{"token":"123"}`)}, 0},
	{"connect custom", `0/custom,`, Packet{Type: PacketConnect, Namespace: "/custom"}, 0},
	{"connect custom payload", `0/custom,{"token":"abc"}`,
		Packet{Type: PacketConnect, Namespace: "/custom", Data: []byte(`{"token":"abc"}`)}, 0},
	{"connect admin sample", `0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}`,
		Packet{Type: PacketConnect, Namespace: "/admin", Data: []byte(`{"sid":"-G5j-67EZFp-q59rADQM"}`)}, 0},
	{"connect error", `4{"message":"Not authorized"}`,
		Packet{Type: PacketConnectError, Namespace: "/", Data: []byte(`{"message":"Not authorized"}`)}, 0},
	{"connect error namespace", `4/random,{"message":"Invalid namespace"}`,
		Packet{Type: PacketConnectError, Namespace: "/random", Data: []byte(`{"message":"Invalid namespace"}`)}, 0},
	{"event main", `2["foo"]`, Packet{Type: PacketEvent, Namespace: "/", Data: []byte(`["foo"]`)}, 0},
	{"event custom", `2/admin,["bar"]`, Packet{Type: PacketEvent, Namespace: "/admin", Data: []byte(`["bar"]`)}, 0},
	{"event sample", `2["hey","Jude"]`, Packet{Type: PacketEvent, Namespace: "/", Data: []byte(`["hey","Jude"]`)}, 0},
	{"event auth", `2["auth",{}]`, Packet{Type: PacketEvent, Namespace: "/", Data: []byte(`["auth",{}]`)}, 0},
	{"event auth custom", `2/custom,["auth",{"token":"abc"}]`,
		Packet{Type: PacketEvent, Namespace: "/custom", Data: []byte(`["auth",{"token":"abc"}]`)}, 0},
	{"event plain text", `2["message",1,"2",{"3":[true]}]`,
		Packet{Type: PacketEvent, Namespace: "/", Data: []byte(`["message",1,"2",{"3":[true]}]`)}, 0},
	{"binary event", `51-["baz",{"_placeholder":true,"num":0}]`,
		Packet{Type: PacketBinaryEvent, Namespace: "/", Data: []byte(`["baz",{"_placeholder":true,"num":0}]`)}, 1},
	{"binary event hello", `51-["hello",{"_placeholder":true,"num":0}]`,
		Packet{Type: PacketBinaryEvent, Namespace: "/", Data: []byte(`["hello",{"_placeholder":true,"num":0}]`)}, 1},
	{"binary event two", `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		Packet{Type: PacketBinaryEvent, Namespace: "/admin", Data: []byte(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}, 2},
	{"binary event suite", `52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		Packet{Type: PacketBinaryEvent, Namespace: "/", Data: []byte(`["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}, 2},
	{"binary event ack suite", `52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		Packet{Type: PacketBinaryEvent, Namespace: "/", ID: 789, HasID: true, Data: []byte(`["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}, 2},
	{"event ack", `212["foo"]`, Packet{Type: PacketEvent, Namespace: "/", ID: 12, HasID: true, Data: []byte(`["foo"]`)}, 0},
	{"event ack custom", `2/admin,1["tellme"]`,
		Packet{Type: PacketEvent, Namespace: "/admin", ID: 1, HasID: true, Data: []byte(`["tellme"]`)}, 0},
	{"event ack project", `2/admin,456["project:delete",123]`,
		Packet{Type: PacketEvent, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`["project:delete",123]`)}, 0},
	{"event ack suite", `2456["message-with-ack",1,"2",{"3":[false]}]`,
		Packet{Type: PacketEvent, Namespace: "/", ID: 456, HasID: true, Data: []byte(`["message-with-ack",1,"2",{"3":[false]}]`)}, 0},
	{"ack custom", `3/admin,13["bar"]`, Packet{Type: PacketAck, Namespace: "/admin", ID: 13, HasID: true, Data: []byte(`["bar"]`)}, 0},
	{"ack empty", `3/admin,456[]`, Packet{Type: PacketAck, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`[]`)}, 0},
	{"ack suite", `3456[1,"2",{"3":[false]}]`,
		Packet{Type: PacketAck, Namespace: "/", ID: 456, HasID: true, Data: []byte(`[1,"2",{"3":[false]}]`)}, 0},
	{"binary ack", `61-15["bar",{"_placeholder":true,"num":0}]`,
		Packet{Type: PacketBinaryAck, Namespace: "/", ID: 15, HasID: true, Data: []byte(`["bar",{"_placeholder":true,"num":0}]`)}, 1},
	{"binary ack custom", `61-/admin,456[{"_placeholder":true,"num":0}]`,
		Packet{Type: PacketBinaryAck, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`)}, 1},
	{"binary ack sample", `61-/admin,1[{"_placeholder":true,"num":0}]`,
		Packet{Type: PacketBinaryAck, Namespace: "/admin", ID: 1, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`)}, 1},
	{"binary ack suite", `62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		Packet{Type: PacketBinaryAck, Namespace: "/", ID: 789, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}, 2},
	{"disconnect main", `1`, Packet{Type: PacketDisconnect, Namespace: "/"}, 0},
	{"disconnect custom", `1/admin,`, Packet{Type: PacketDisconnect, Namespace: "/admin"}, 0},
}

func TestPacketTypeString(t *testing.T) {
	tests := []struct {
		t    PacketType
		want string
	}{
		{PacketConnect, "CONNECT"},
		{PacketDisconnect, "DISCONNECT"},
		{PacketEvent, "EVENT"},
		{PacketAck, "ACK"},
		{PacketConnectError, "CONNECT_ERROR"},
		{PacketBinaryEvent, "BINARY_EVENT"},
		{PacketBinaryAck, "BINARY_ACK"},
		{PacketType(7), "PacketType(7)"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("PacketType(%d).String() = %q, want %q", byte(tt.t), got, tt.want)
		}
	}
}

func TestEncodePacket(t *testing.T) {
	for _, tc := range specPackets {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if tc.attachN > 0 {
				p.Attachments = make([][]byte, tc.attachN)
			}
			prefix := []byte("4")
			got := EncodePacket(prefix, &p)
			if want := "4" + tc.text; string(got) != want {
				t.Errorf("EncodePacket = %q, want %q", got, want)
			}
		})
	}
}

func TestEncodePacketDefaults(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		want string
	}{
		{"empty namespace is main", Packet{Type: PacketEvent, Data: []byte(`["a"]`)}, `2["a"]`},
		{"binary without attachments", Packet{Type: PacketBinaryEvent, Data: []byte(`["a"]`)}, `50-["a"]`},
		{"attachments ignored on event", Packet{Type: PacketEvent, Data: []byte(`["a"]`), Attachments: [][]byte{{1}}}, `2["a"]`},
		{"zero ack id", Packet{Type: PacketAck, HasID: true, Data: []byte(`[]`)}, `30[]`},
		{"large ack id", Packet{Type: PacketAck, ID: MaxAckID, HasID: true, Data: []byte(`[]`)}, `39007199254740991[]`},
		{"connect error string", Packet{Type: PacketConnectError, Data: []byte(`"nope"`)}, `4"nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodePacket(nil, &tc.p); string(got) != tc.want {
				t.Errorf("EncodePacket = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodePacketSpec(t *testing.T) {
	for _, tc := range specPackets {
		t.Run(tc.name, func(t *testing.T) {
			p, n, err := DecodePacket([]byte(tc.text))
			if err != nil {
				t.Fatalf("DecodePacket(%q): %v", tc.text, err)
			}
			checkPacket(t, p, &tc.p)
			if n != tc.attachN {
				t.Errorf("attachments = %d, want %d", n, tc.attachN)
			}
			p.Attachments = make([][]byte, n)
			if got := EncodePacket(nil, p); string(got) != tc.text {
				t.Errorf("re-encoded as %q", got)
			}
		})
	}
}

// TestDecodePacketLenient covers valid inputs that are not in canonical form,
// and the canonical form they re-encode to.
func TestDecodePacketLenient(t *testing.T) {
	tests := []struct {
		name, text string
		want       Packet
		attachN    int
		canonical  string
	}{
		// The test suite connects and disconnects without the trailing comma.
		{"connect namespace to end", `0/random`, Packet{Type: PacketConnect, Namespace: "/random"}, 0, `0/random,`},
		{"connect custom to end", `0/custom`, Packet{Type: PacketConnect, Namespace: "/custom"}, 0, `0/custom,`},
		{"disconnect namespace to end", `1/custom`, Packet{Type: PacketDisconnect, Namespace: "/custom"}, 0, `1/custom,`},
		{"explicit main namespace", `2/,["a"]`, Packet{Type: PacketEvent, Namespace: "/", Data: []byte(`["a"]`)}, 0, `2["a"]`},
		{"ack id leading zeros", `2012["a"]`, Packet{Type: PacketEvent, Namespace: "/", ID: 12, HasID: true, Data: []byte(`["a"]`)}, 0, `212["a"]`},
		{"attachment count leading zero", `501-["a",{"_placeholder":true,"num":0}]`,
			Packet{Type: PacketBinaryEvent, Namespace: "/", Data: []byte(`["a",{"_placeholder":true,"num":0}]`)}, 1, `51-["a",{"_placeholder":true,"num":0}]`},
		{"binary without attachments", `50-["a"]`, Packet{Type: PacketBinaryEvent, Namespace: "/", Data: []byte(`["a"]`)}, 0, `50-["a"]`},
		{"max attachments", `51000-["a"]`, Packet{Type: PacketBinaryEvent, Namespace: "/", Data: []byte(`["a"]`)}, 1000, `51000-["a"]`},
		{"max ack id", `29007199254740991["a"]`,
			Packet{Type: PacketEvent, Namespace: "/", ID: MaxAckID, HasID: true, Data: []byte(`["a"]`)}, 0, `29007199254740991["a"]`},
		{"zero ack id", `30[]`, Packet{Type: PacketAck, Namespace: "/", ID: 0, HasID: true, Data: []byte(`[]`)}, 0, `30[]`},
		{"whitespace in payload", "2 [ \"a\" , 1 ]\n", Packet{Type: PacketEvent, Namespace: "/", Data: []byte(" [ \"a\" , 1 ]\n")}, 0, "2 [ \"a\" , 1 ]\n"},
		{"connect error string", `4"oops"`, Packet{Type: PacketConnectError, Namespace: "/", Data: []byte(`"oops"`)}, 0, `4"oops"`},
		{"connect error without payload", `4`, Packet{Type: PacketConnectError, Namespace: "/"}, 0, `4`},
		{"unicode namespace", `2/ünï,["a"]`, Packet{Type: PacketEvent, Namespace: "/ünï", Data: []byte(`["a"]`)}, 0, `2/ünï,["a"]`},
		{"reserved event name", `2["connect"]`, Packet{Type: PacketEvent, Namespace: "/", Data: []byte(`["connect"]`)}, 0, `2["connect"]`},
		{"placeholder in plain event", `2["a",{"_placeholder":true,"num":7}]`,
			Packet{Type: PacketEvent, Namespace: "/", Data: []byte(`["a",{"_placeholder":true,"num":7}]`)}, 0, `2["a",{"_placeholder":true,"num":7}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, n, err := DecodePacket([]byte(tc.text))
			if err != nil {
				t.Fatalf("DecodePacket(%q): %v", tc.text, err)
			}
			checkPacket(t, p, &tc.want)
			if n != tc.attachN {
				t.Errorf("attachments = %d, want %d", n, tc.attachN)
			}
			p.Attachments = make([][]byte, n)
			got := EncodePacket(nil, p)
			if string(got) != tc.canonical {
				t.Fatalf("re-encoded as %q, want %q", got, tc.canonical)
			}
			p2, n2, err := DecodePacket(got)
			if err != nil {
				t.Fatalf("DecodePacket(%q): %v", got, err)
			}
			checkPacket(t, p2, &tc.want)
			if n2 != n {
				t.Errorf("re-decoded attachments = %d, want %d", n2, n)
			}
		})
	}
}

func TestDecodePacketInvalid(t *testing.T) {
	tests := []struct {
		name, text string
		want       error
	}{
		// From the official test suite, minus the Engine.IO prefix ("4abc").
		{"suite unknown type", `abc`, ErrInvalidPacketType},
		{"suite object payload", `2{}`, ErrInvalidPacketPayload},
		{"suite invalid ack id", `2abc["message-with-ack",1,"2",{"3":[false]}]`, ErrInvalidPacketPayload},

		{"empty", ``, ErrInvalidPacketType},
		{"type 7", `7["a"]`, ErrInvalidPacketType},
		{"type 9", `9`, ErrInvalidPacketType},
		{"leading space", ` 2["a"]`, ErrInvalidPacketType},
		{"sign", `-1`, ErrInvalidPacketType},

		{"event missing payload", `2`, ErrInvalidPacketPayload},
		{"event namespace without payload", `2/admin,`, ErrInvalidPacketPayload},
		{"event payload swallowed by namespace", `2/admin["a"]`, ErrInvalidPacketPayload},
		{"event empty array", `2[]`, ErrInvalidPacketPayload},
		{"event number name", `2[1]`, ErrInvalidPacketPayload},
		{"event null name", `2[null,"a"]`, ErrInvalidPacketPayload},
		{"event string payload", `2"a"`, ErrInvalidPacketPayload},
		{"event unterminated", `2["a"`, ErrInvalidPacketPayload},
		{"event trailing garbage", `2["a"]x`, ErrInvalidPacketPayload},
		{"event two values", `2["a"]["b"]`, ErrInvalidPacketPayload},
		{"event trailing comma", `2["a",]`, ErrInvalidPacketPayload},
		{"event single quotes", `2['a']`, ErrInvalidPacketPayload},
		{"event id then garbage", `212abc["a"]`, ErrInvalidPacketPayload},
		{"event whitespace only", `2 `, ErrInvalidPacketPayload},
		{"event control char in string", "2[\"a\x01\"]", ErrInvalidPacketPayload},
		{"event bad escape", `2["a\x"]`, ErrInvalidPacketPayload},
		{"event leading zero number", `2["a",01]`, ErrInvalidPacketPayload},
		{"binary event number name", `51-[1,{"_placeholder":true,"num":0}]`, ErrInvalidPacketPayload},

		{"connect array", `0[]`, ErrInvalidPacketPayload},
		{"connect string", `0"a"`, ErrInvalidPacketPayload},
		{"connect custom array", `0/admin,["a"]`, ErrInvalidPacketPayload},
		{"connect two objects", `0{}{}`, ErrInvalidPacketPayload},
		{"connect null", `0null`, ErrInvalidPacketPayload},
		{"disconnect payload", `1{}`, ErrInvalidPacketPayload},
		{"disconnect custom payload", `1/admin,{}`, ErrInvalidPacketPayload},
		{"disconnect trailing space", `1/admin, `, ErrInvalidPacketPayload},
		{"connect error array", `4[]`, ErrInvalidPacketPayload},
		{"connect error garbage", `4/admin,x`, ErrInvalidPacketPayload},
		{"ack object", `312{}`, ErrInvalidPacketPayload},
		{"ack missing payload", `312`, ErrInvalidPacketPayload},
		{"binary ack object", `61-12{}`, ErrInvalidPacketPayload},

		{"ack without id", `3[]`, ErrInvalidAckID},
		{"ack custom without id", `3/admin,["a"]`, ErrInvalidAckID},
		{"binary ack without id", `61-[{"_placeholder":true,"num":0}]`, ErrInvalidAckID},
		{"connect with id", `012{}`, ErrInvalidAckID},
		{"disconnect with id", `1/admin,5`, ErrInvalidAckID},
		{"connect error with id", `41`, ErrInvalidAckID},
		{"ack id too long", `2` + strings.Repeat("1", 17) + `["a"]`, ErrInvalidAckID},
		{"ack id zeros too long", `2` + strings.Repeat("0", 17) + `["a"]`, ErrInvalidAckID},
		{"ack id above max", `29007199254740992["a"]`, ErrInvalidAckID},
		{"ack id 16 nines", `29999999999999999["a"]`, ErrInvalidAckID},

		{"binary without count", `5["a"]`, ErrInvalidAttachmentCount},
		{"binary empty count", `5-["a"]`, ErrInvalidAttachmentCount},
		{"binary count without dash", `51["a"]`, ErrInvalidAttachmentCount},
		{"binary count only", `51`, ErrInvalidAttachmentCount},
		{"binary type only", `5`, ErrInvalidAttachmentCount},
		{"binary count letters", `5a-["a"]`, ErrInvalidAttachmentCount},
		{"binary negative count", `5-1-["a"]`, ErrInvalidAttachmentCount},
		{"binary ack without count", `615["a"]`, ErrInvalidAttachmentCount},
		{"binary too many", `51001-["a"]`, ErrTooManyAttachments},
		{"binary count long", `5` + strings.Repeat("9", 30) + `-["a"]`, ErrTooManyAttachments},

		{"namespace not utf-8", "2/\xff,[\"a\"]", ErrInvalidPacketNamespace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := DecodePacket([]byte(tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodePacket(%q) = %+v, %v; want error %v", tc.text, p, err, tc.want)
			}
			if p != nil {
				t.Errorf("DecodePacket returned a packet with error %v", err)
			}
		})
	}
}

func TestDecodePacketAliasesInput(t *testing.T) {
	text := []byte(`2/admin,["a"]`)
	p, _, err := DecodePacket(text)
	if err != nil {
		t.Fatal(err)
	}
	if &p.Data[0] != &text[len(text)-len(p.Data)] {
		t.Error("Data does not alias the input")
	}
	if cap(p.Data) != len(p.Data) {
		t.Errorf("cap(Data) = %d, want %d: appending could overwrite the caller's buffer", cap(p.Data), len(p.Data))
	}
}

func TestEncodePacketAllocs(t *testing.T) {
	p := &Packet{Type: PacketBinaryAck, Namespace: "/admin", ID: 456, HasID: true,
		Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = EncodePacket(buf[:0], p) }); n != 0 {
		t.Errorf("EncodePacket allocates %v times per call", n)
	}
}

func checkPacket(t *testing.T, got, want *Packet) {
	t.Helper()
	if got.Type != want.Type || got.Namespace != want.Namespace || got.ID != want.ID || got.HasID != want.HasID {
		t.Errorf("packet = {%v %q %d %v}, want {%v %q %d %v}",
			got.Type, got.Namespace, got.ID, got.HasID, want.Type, want.Namespace, want.ID, want.HasID)
	}
	if !bytes.Equal(got.Data, want.Data) || (got.Data == nil) != (want.Data == nil) {
		t.Errorf("Data = %q, want %q", got.Data, want.Data)
	}
}
