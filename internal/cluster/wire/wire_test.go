package wire

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The golden bytes below are derived from the reference: the data object
// each ClusterAdapter method builds (socket.io-adapter 2.5 cluster-adapter.ts),
// JSON.stringify of it, or @msgpack/msgpack 2.8's encoding of it, and the
// fields and keys in the order RedisStreamsAdapter writes them.

func val(s string, atts ...[]byte) Value { return Value{JSON: json.RawMessage(s), Attachments: atts} }

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noRooms is what a decoder returns for an empty array.
var noRooms = []string{}

var entryGolden = []struct {
	name  string
	msg   Message
	entry Entry
}{
	{
		name: "io.to(room).emit",
		msg: Message{UID: "6c4b5a3f2e1d0c9b", Nsp: "/", Type: TypeBroadcast,
			Packet: Packet{Type: 2, Data: val(`["hello","world"]`)},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms}},
		entry: Entry{UID: "6c4b5a3f2e1d0c9b", Nsp: "/", Type: "3",
			Data: `{"packet":{"type":2,"data":["hello","world"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}}`},
	},
	{
		name: "socket.broadcast.emit",
		msg: Message{UID: "u1", Nsp: "/chat", Type: TypeBroadcast,
			Packet: Packet{Type: 2, Data: val(`["chat message",{"text":"hé \"there\""}]`)},
			Opts:   Options{Rooms: noRooms, Except: []string{"Xk2vM9qLp0aZbC3dE4fG"}}},
		entry: Entry{UID: "u1", Nsp: "/chat", Type: "3",
			Data: `{"packet":{"type":2,"data":["chat message",{"text":"hé \"there\""}]},"opts":{"rooms":[],"except":["Xk2vM9qLp0aZbC3dE4fG"],"flags":{}}}`},
	},
	{
		name: "io.emit with a Buffer",
		msg: Message{UID: "u1", Nsp: "/", Type: TypeBroadcast,
			Packet: Packet{Type: 2, Data: val(`["bin",{"_placeholder":true,"num":0}]`, []byte{1, 2, 3})},
			Opts:   Options{Rooms: noRooms, Except: noRooms}},
		entry: Entry{UID: "u1", Nsp: "/", Type: "3",
			Data: "gqZwYWNrZXSCpHR5cGUCpGRhdGGSo2JpbsQDAQIDpG9wdHODpXJvb21zkKZleGNlcHSQpWZsYWdzgA=="},
	},
	{
		name: "socketsJoin",
		msg: Message{UID: "u1", Nsp: "/", Type: TypeSocketsJoin,
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}, Rooms: []string{"room2", "room3"}},
		entry: Entry{UID: "u1", Nsp: "/", Type: "4",
			Data: `{"opts":{"rooms":["room1"],"except":[],"flags":{}},"rooms":["room2","room3"]}`},
	},
	{
		name: "socketsLeave",
		msg: Message{UID: "u1", Nsp: "/", Type: TypeSocketsLeave,
			Opts: Options{Rooms: noRooms, Except: []string{"vip"}}, Rooms: []string{"room1"}},
		entry: Entry{UID: "u1", Nsp: "/", Type: "5",
			Data: `{"opts":{"rooms":[],"except":["vip"],"flags":{}},"rooms":["room1"]}`},
	},
	{
		name: "disconnectSockets(true)",
		msg: Message{UID: "u1", Nsp: "/", Type: TypeDisconnectSockets,
			Opts: Options{Rooms: noRooms, Except: noRooms}, Close: true},
		entry: Entry{UID: "u1", Nsp: "/", Type: "6",
			Data: `{"opts":{"rooms":[],"except":[],"flags":{}},"close":true}`},
	},
	{
		name:  "heartbeat",
		msg:   Message{UID: "u1", Nsp: "/", Type: TypeHeartbeat},
		entry: Entry{UID: "u1", Nsp: "/", Type: "2"},
	},
}

func TestEncodeEntryGolden(t *testing.T) {
	for _, tc := range entryGolden {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeEntry(&tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.entry {
				t.Errorf("got  %+v\nwant %+v", got, tc.entry)
			}
			back, err := DecodeEntry(got)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*back, tc.msg) {
				t.Errorf("decoded as %+v\nwant       %+v", *back, tc.msg)
			}
		})
	}
}

func TestEntryFields(t *testing.T) {
	e := Entry{UID: "u", Nsp: "/", Type: "3", Data: "{}"}
	if got, want := e.Fields(), []string{"uid", "u", "nsp", "/", "type", "3", "data", "{}"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
	e.Data = ""
	if got := e.Fields(); len(got) != 6 {
		t.Errorf("Fields() without data = %q", got)
	}
}

// TestDecodeEntryReference decodes entries as a Node.js node may write
// them: keys in other orders, flags parley does not know, the packet's
// namespace set.
func TestDecodeEntryReference(t *testing.T) {
	tests := []struct {
		name  string
		entry Entry
		want  Message
	}{
		{
			name: "flags and packet namespace",
			entry: Entry{UID: "n", Nsp: "/", Type: "3",
				Data: `{"opts":{"flags":{"volatile":true,"expectSingleResponse":true,"timeout":1500.2},"except":[],"rooms":["a"]},"packet":{"nsp":"/","data":["e",1],"type":2}}`},
			want: Message{UID: "n", Nsp: "/", Type: TypeBroadcast,
				Packet: Packet{Type: 2, Data: val(`["e",1]`), Nsp: "/"},
				Opts:   Options{Rooms: []string{"a"}, Except: noRooms, Flags: Flags{Volatile: true, Timeout: 1501}}},
		},
		{
			name:  "disconnectSockets() without close",
			entry: Entry{UID: "n", Nsp: "/", Type: "6", Data: `{"opts":{"rooms":[],"except":[],"flags":{}}}`},
			want:  Message{UID: "n", Nsp: "/", Type: TypeDisconnectSockets, Opts: Options{Rooms: noRooms, Except: noRooms}},
		},
		{
			name:  "spaces",
			entry: Entry{UID: "n", Nsp: "/", Type: "4", Data: `{ "opts" : { "rooms" : [ ] , "except" : [ ] } , "rooms" : [ "r" ] }`},
			want:  Message{UID: "n", Nsp: "/", Type: TypeSocketsJoin, Opts: Options{Rooms: noRooms, Except: noRooms}, Rooms: []string{"r"}},
		},
		{
			name:  "unpadded base64",
			entry: Entry{UID: "n", Nsp: "/", Type: "3", Data: "gqZwYWNrZXSCpHR5cGUCpGRhdGGSo2JpbsQDAQIDpG9wdHODpXJvb21zkKZleGNlcHSQpWZsYWdzgA"},
			want: Message{UID: "n", Nsp: "/", Type: TypeBroadcast,
				Packet: Packet{Type: 2, Data: val(`["bin",{"_placeholder":true,"num":0}]`, []byte{1, 2, 3})},
				Opts:   Options{Rooms: noRooms, Except: noRooms}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeEntry(tc.entry)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

var payloadGolden = []struct {
	name string
	msg  Message
	hex  string
}{
	{
		name: "fetchSockets",
		msg: Message{UID: "aaaa", Nsp: "/", Type: TypeFetchSockets, RequestID: "0123456789abcdef",
			Opts: Options{Rooms: []string{"r1"}, Except: noRooms}},
		hex: "84 a474797065 07 a464617461 82 a46f707473 83 a5726f6f6d73 91 a27231 a6657863657074 90 a5666c616773 80" +
			" a9726571756573744964 b030313233343536373839616263646566 a3756964 a461616161 a36e7370 a12f",
	},
	{
		name: "serverSideEmit with ack, numbers",
		msg: Message{UID: "aaaa", Nsp: "/", Type: TypeServerSideEmit, RequestID: "rq",
			Args: val(`["ping",1.5,-1,300,-33,4294967296]`)},
		hex: "84 a474797065 09 a464617461 82 a9726571756573744964 a27271 a67061636b6574" +
			" 96 a470696e67 cb3ff8000000000000 ff cd012c d0df cf0000000100000000 a3756964 a461616161 a36e7370 a12f",
	},
	{
		name: "broadcast client count",
		msg:  Message{UID: "b", Nsp: "/", Type: TypeBroadcastClientCount, RequestID: "rq", ClientCount: 2},
		hex:  "84 a474797065 0b a464617461 82 a9726571756573744964 a27271 ab636c69656e74436f756e74 02 a3756964 a162 a36e7370 a12f",
	},
	{
		name: "broadcast with ack and timeout",
		msg: Message{UID: "b", Nsp: "/", Type: TypeBroadcast, RequestID: "rq",
			Packet: Packet{Type: 2, Data: val(`["e"]`)},
			Opts:   Options{Rooms: noRooms, Except: []string{"x"}, Flags: Flags{Timeout: 1000}}},
		hex: "84 a474797065 03 a464617461 83 a67061636b6574 82 a474797065 02 a464617461 91 a165" +
			" a9726571756573744964 a27271 a46f707473 83 a5726f6f6d73 90 a6657863657074 91 a178 a5666c616773 81" +
			" a774696d656f7574 cd03e8 a3756964 a162 a36e7370 a12f",
	},
	{
		name: "heartbeat",
		msg:  Message{UID: "b", Nsp: "/", Type: TypeHeartbeat},
		hex:  "83 a474797065 02 a3756964 a162 a36e7370 a12f",
	},
	{
		name: "fetchSockets response",
		msg: Message{UID: "b", Nsp: "/", Type: TypeFetchSocketsResponse, RequestID: "rq",
			Sockets: []SocketInfo{{ID: "s1", Handshake: val(`{"auth":{}}`), Rooms: []string{"s1", "r"}, Data: val(`null`)}}},
		hex: "84 a474797065 08 a464617461 82 a9726571756573744964 a27271 a7736f636b657473 91" +
			" 84 a26964 a27331 a968616e647368616b65 81 a461757468 80 a5726f6f6d73 92 a27331 a172 a464617461 c0" +
			" a3756964 a162 a36e7370 a12f",
	},
}

func TestPayloadGolden(t *testing.T) {
	for _, tc := range payloadGolden {
		t.Run(tc.name, func(t *testing.T) {
			want := mustHex(t, tc.hex)
			got, err := EncodePayload(&tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("got  %x\nwant %x", got, want)
			}
			back, err := DecodePayload(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*back, tc.msg) {
				t.Errorf("decoded as %+v\nwant       %+v", *back, tc.msg)
			}
		})
	}
}

// TestDecodePayloadReference decodes what only the reference writes.
func TestDecodePayloadReference(t *testing.T) {
	// A Date, from @msgpack/msgpack: the timestamp extension.
	b := mustHex(t, "84a4747970650aa46461746182a9726571756573744964a27271a67061636b6574d7ffa1a5d60065937d25a3756964a162a36e7370a12f")
	m, err := DecodePayload(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(m.Reply.JSON), `"2024-01-02T03:04:05.678Z"`; got != want {
		t.Errorf("Date decoded as %s, want %s", got, want)
	}
}

func TestValueJSONFromMsgpack(t *testing.T) {
	tests := []struct {
		name, hex, json string
		atts            int
	}{
		{"nil", "c0", "null", 0},
		{"bools", "92c3c2", "[true,false]", 0},
		{"ints", "95 00 7f ff cc80 d3ffffffffffffffff", "[0,127,-1,128,-1]", 0},
		{"uint64", "cfffffffffffffffff", "18446744073709551615", 0},
		{"float32", "ca3fc00000", "1.5", 0},
		{"float64 exponents", "93 cb444b1ae4d6e2ef50 cb3e7ad7f29abcaf48 cb7ff8000000000000", "[1e+21,1e-7,null]", 0},
		{"string escapes", "a6 22 5c 0a 01 c3 a9", `"\"\\\n\u0001é"`, 0},
		{"invalid UTF-8", "a2 ff 41", "\"\uFFFDA\"", 0},
		{"bins", "92 c40101 c400", `[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, 2},
		{"number keys", "81 01 a178", `{"1":"x"}`, 0},
		{"timestamp32", "d6ff00000000", `"1970-01-01T00:00:00.000Z"`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v Value
			r := newReader(mustHex(t, tc.hex))
			if err := r.value(&v, 0); err != nil {
				t.Fatal(err)
			}
			if string(v.JSON) != tc.json || len(v.Attachments) != tc.atts {
				t.Errorf("got %s with %d attachments, want %s with %d", v.JSON, len(v.Attachments), tc.json, tc.atts)
			}
		})
	}
}

func TestValueMsgpackFromJSON(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		hex  string
	}{
		{"integral floats are ints", val(`[1.0,-0,1e2,-0.0]`), "94 01 00 64 00"},
		{"big integers", val(`[9223372036854775807,18446744073709551615,18446744073709551616]`),
			"93 cf7fffffffffffffff cfffffffffffffffff cb43f0000000000000"},
		{"escaped strings", val(`"a\u00e9\n\ud83c\udf0d"`), "a8 61 c3a9 0a f09f8c8d"},
		{"placeholder either order", val(`[{"num":1,"_placeholder":true},{"_placeholder":true,"num":0}]`, []byte{7}, nil),
			"92 c400 c40107"},
		{"placeholder-like without attachments", val(`{"_placeholder":true,"num":0}`),
			"82 ac5f706c616365686f6c646572 c3 a36e756d 00"},
		{"object keeps order", val(`{"b":1,"a":2}`), "82 a162 01 a161 02"},
		{"empty value", Value{}, "c0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodePayload(&Message{Type: TypeServerSideEmitResponse, RequestID: "r", Reply: tc.v, Nsp: "/"})
			if err != nil {
				t.Fatal(err)
			}
			// The reply sits after type, the data map, requestId and the "packet" key.
			prefix := mustHex(t, "84 a474797065 0a a464617461 82 a9726571756573744964 a172 a67061636b6574")
			suffix := mustHex(t, "a3756964 a0 a36e7370 a12f")
			if !strings.HasPrefix(string(got), string(prefix)) || !strings.HasSuffix(string(got), string(suffix)) {
				t.Fatalf("unexpected frame %x", got)
			}
			body := got[len(prefix) : len(got)-len(suffix)]
			if want := mustHex(t, tc.hex); string(body) != string(want) {
				t.Errorf("got %x, want %x", body, want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want error
	}{
		{"unknown type", Message{Type: 14, Nsp: "/"}, ErrUnknownType},
		{"placeholder out of range", Message{Type: TypeBroadcast, Nsp: "/",
			Packet: Packet{Type: 2, Data: val(`[{"_placeholder":true,"num":3}]`, []byte{1})}}, ErrMalformed},
		{"invalid JSON", Message{Type: TypeServerSideEmit, Nsp: "/", Args: val(`["a",]`, []byte{1})}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := EncodeEntry(&tc.msg); !errors.Is(err, tc.want) {
				t.Errorf("EncodeEntry: %v, want %v", err, tc.want)
			}
			if _, err := EncodePayload(&tc.msg); !errors.Is(err, tc.want) {
				t.Errorf("EncodePayload: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDecodeEntryErrors(t *testing.T) {
	opts := `"opts":{"rooms":[],"except":[],"flags":{}}`
	tests := []struct {
		name  string
		entry Entry
		want  error
	}{
		{"no type", Entry{Nsp: "/"}, ErrUnknownType},
		{"type 0", Entry{Nsp: "/", Type: "0"}, ErrUnknownType},
		{"type 14", Entry{Nsp: "/", Type: "14"}, ErrUnknownType},
		{"type +3", Entry{Nsp: "/", Type: "+3", Data: "{}"}, ErrUnknownType},
		{"type 003", Entry{Nsp: "/", Type: "003", Data: "{}"}, ErrUnknownType},
		{"no namespace", Entry{Type: "2"}, ErrNoNamespace},
		{"broadcast without data", Entry{Nsp: "/", Type: "3"}, ErrMalformed},
		{"broadcast without opts", Entry{Nsp: "/", Type: "3", Data: `{"packet":{"type":2,"data":["a"]}}`}, ErrMalformed},
		{"broadcast without packet", Entry{Nsp: "/", Type: "3", Data: `{` + opts + `}`}, ErrMalformed},
		{"packet data not an array", Entry{Nsp: "/", Type: "3", Data: `{"packet":{"type":2,"data":"a"},` + opts + `}`}, ErrMalformed},
		{"packet type out of range", Entry{Nsp: "/", Type: "3", Data: `{"packet":{"type":9,"data":[]},` + opts + `}`}, ErrMalformed},
		{"room not a string", Entry{Nsp: "/", Type: "4", Data: `{"opts":{"rooms":[1]},"rooms":[]}`}, ErrMalformed},
		{"trailing garbage", Entry{Nsp: "/", Type: "6", Data: `{` + opts + `}x`}, ErrMalformed},
		{"bad JSON", Entry{Nsp: "/", Type: "6", Data: `{"opts":`}, ErrMalformed},
		{"too deep", Entry{Nsp: "/", Type: "3", Data: `{"packet":{"type":2,"data":` + strings.Repeat("[", MaxDepth+2) +
			strings.Repeat("]", MaxDepth+2) + `},` + opts + `}`}, ErrTooDeep},
		{"bad base64", Entry{Nsp: "/", Type: "3", Data: "!!!!"}, ErrMalformed},
		{"msgpack not a map", Entry{Nsp: "/", Type: "3", Data: base64.StdEncoding.EncodeToString([]byte{0x90})}, ErrMalformed},
		{"msgpack huge bin", Entry{Nsp: "/", Type: "3", Data: base64.StdEncoding.EncodeToString(
			mustHex(t, "81 a67061636b6574 c6ffffffff"))}, ErrMalformed},
		{"msgpack huge map", Entry{Nsp: "/", Type: "3", Data: base64.StdEncoding.EncodeToString(
			mustHex(t, "dfffffffff"))}, ErrMalformed},
		{"msgpack trailing bytes", Entry{Nsp: "/", Type: "6", Data: base64.StdEncoding.EncodeToString(
			mustHex(t, "81 a46f707473 80 00"))}, ErrMalformed},
		{"fetch without requestId", Entry{Nsp: "/", Type: "7", Data: `{` + opts + `}`}, ErrMalformed},
		{"response without requestId", Entry{Nsp: "/", Type: "11", Data: `{"clientCount":1}`}, ErrMalformed},
		{"fractional client count", Entry{Nsp: "/", Type: "11", Data: `{"requestId":"r","clientCount":1.5}`}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeEntry(tc.entry)
			if !errors.Is(err, tc.want) {
				t.Errorf("DecodeEntry: %v (%+v), want %v", err, m, tc.want)
			}
		})
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	tests := []struct {
		name, hex string
		want      error
	}{
		{"empty", "", ErrMalformed},
		{"not a map", "90", ErrMalformed},
		{"no type", "81 a36e7370 a12f", ErrUnknownType},
		{"unknown type", "82 a474797065 0e a36e7370 a12f", ErrUnknownType},
		{"fractional type", "82 a474797065 cb3ff8000000000000 a36e7370 a12f", ErrMalformed},
		{"no namespace", "81 a474797065 02", ErrNoNamespace},
		{"data missing", "82 a474797065 07 a36e7370 a12f", ErrMalformed},
		{"key not a string", "81 01 02", ErrMalformed},
		{"unknown extension", "83 a474797065 02 a36e7370 a12f a178 d40100", ErrMalformed},
		{"truncated", "83 a474797065 02 a36e7370 a1", ErrMalformed},
		{"trailing", "82 a474797065 02 a36e7370 a12f c0", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodePayload(mustHex(t, tc.hex))
			if !errors.Is(err, tc.want) {
				t.Errorf("DecodePayload: %v (%+v), want %v", err, m, tc.want)
			}
		})
	}
}

// sampleMessages has a message of every type, with and without binary.
func sampleMessages() []Message {
	opts := Options{Rooms: []string{"a", "b"}, Except: []string{"c"}, Flags: Flags{Volatile: true, Compress: true, Local: true, Broadcast: true, Binary: true, Timeout: 5}}
	bin := val(`["e",{"_placeholder":true,"num":0},{"k":[{"_placeholder":true,"num":1}]}]`, []byte("x"), []byte{})
	return []Message{
		{UID: "u", Nsp: "/", Type: TypeInitialHeartbeat},
		{UID: "u", Nsp: "/", Type: TypeHeartbeat},
		{UID: "u", Nsp: "/", Type: TypeBroadcast, Opts: opts, Packet: Packet{Type: 2, Data: val(`["e",1,"x",null,{"a":[true]}]`)}},
		{UID: "u", Nsp: "/", Type: TypeBroadcast, Opts: opts, Packet: Packet{Type: 2, Data: bin, Nsp: "/x", ID: 7, HasID: true}, RequestID: "r"},
		{UID: "u", Nsp: "/", Type: TypeSocketsJoin, Opts: opts, Rooms: []string{"d"}},
		{UID: "u", Nsp: "/", Type: TypeSocketsLeave, Opts: opts, Rooms: []string{"d", "é"}},
		{UID: "u", Nsp: "/", Type: TypeDisconnectSockets, Opts: opts, Close: true},
		{UID: "u", Nsp: "/", Type: TypeFetchSockets, Opts: opts, RequestID: "r"},
		{UID: "u", Nsp: "/", Type: TypeFetchSocketsResponse, RequestID: "r", Sockets: []SocketInfo{
			{ID: "s", Handshake: val(`{"headers":{"a":"b"},"issued":1}`), Rooms: []string{"s"}, Data: val(`{"n":1}`)},
			{ID: "t", Handshake: val(`{}`), Rooms: []string{}, Data: val(`{"b":{"_placeholder":true,"num":0}}`, []byte{9})},
		}},
		{UID: "u", Nsp: "/", Type: TypeServerSideEmit, Args: val(`["hello",1]`)},
		{UID: "u", Nsp: "/", Type: TypeServerSideEmit, Args: bin, RequestID: "r"},
		{UID: "u", Nsp: "/", Type: TypeServerSideEmitResponse, RequestID: "r", Reply: val(`"pong"`)},
		{UID: "u", Nsp: "/", Type: TypeBroadcastClientCount, RequestID: "r", ClientCount: 3},
		{UID: "u", Nsp: "/", Type: TypeBroadcastAck, RequestID: "r", Reply: val(`{"_placeholder":true,"num":0}`, []byte{1})},
		{UID: "u", Nsp: "/", Type: TypeAdapterClose},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(m.Type.String(), func(t *testing.T) {
			e, err := EncodeEntry(&m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeEntry(e)
			if err != nil {
				t.Fatalf("DecodeEntry(%+v): %v", e, err)
			}
			if !reflect.DeepEqual(*got, m) {
				t.Errorf("entry %+v\ndecoded as %+v\nwant       %+v", e, *got, m)
			}
			p, err := EncodePayload(&m)
			if err != nil {
				t.Fatal(err)
			}
			if got, err = DecodePayload(p); err != nil {
				t.Fatalf("DecodePayload(%x): %v", p, err)
			}
			if !reflect.DeepEqual(*got, m) {
				t.Errorf("payload %x\ndecoded as %+v\nwant       %+v", p, *got, m)
			}
		})
	}
}

func TestEphemeral(t *testing.T) {
	for _, m := range sampleMessages() {
		want := m.Type != TypeSocketsJoin && m.Type != TypeSocketsLeave && m.Type != TypeDisconnectSockets &&
			(m.Type != TypeBroadcast || m.RequestID != "")
		if got := m.Ephemeral(); got != want {
			t.Errorf("%v (requestId %q): Ephemeral() = %v", m.Type, m.RequestID, got)
		}
	}
}

func TestNames(t *testing.T) {
	if got := PublicChannel("socket.io", "/"); got != "socket.io#/#" {
		t.Errorf("PublicChannel = %q", got)
	}
	if got := PrivateChannel("socket.io", "/chat", "abc"); got != "socket.io#/chat#abc#" {
		t.Errorf("PrivateChannel = %q", got)
	}
	if got := SessionKey(DefaultSessionKeyPrefix, "pid"); got != "sio:session:pid" {
		t.Errorf("SessionKey = %q", got)
	}
	// Hashes as the reference's hashCode computes them in JavaScript.
	tests := []struct {
		nsp   string
		hash  int32
		count int
		want  string
	}{
		{"/", 47, 1, "socket.io"},
		{"/", 47, 4, "socket.io-3"},
		{"/admin", 1438238848, 3, "socket.io-1"},
		{"/ünï", 1645998, 4, "socket.io-2"},
		{"/🌍", 1818304, 3, "socket.io-1"},
		{"/namespace-z", -1732195079, 4, "socket.io--3"},
		{"/zzzzzzzz", -961036753, 3, "socket.io--1"},
		{"/users/123", -290313636, 3, "socket.io-0"},
	}
	for _, tc := range tests {
		if got := hashCode(tc.nsp); got != tc.hash {
			t.Errorf("hashCode(%q) = %d, want %d", tc.nsp, got, tc.hash)
		}
		if got := StreamName("socket.io", tc.count, tc.nsp); got != tc.want {
			t.Errorf("StreamName(%q, %d) = %q, want %q", tc.nsp, tc.count, got, tc.want)
		}
	}
}

func TestTypeString(t *testing.T) {
	if got := TypeFetchSocketsResponse.String(); got != "FETCH_SOCKETS_RESPONSE" {
		t.Errorf("String() = %q", got)
	}
	if got := Type(99).String(); got != "Type(99)" {
		t.Errorf("String() = %q", got)
	}
}

func TestSessionGolden(t *testing.T) {
	tests := []struct {
		name string
		s    Session
		text string
	}{
		{"with data", Session{SID: "Xk2vM9qLp0aZbC3dE4fG", PID: "p1", Rooms: []string{"Xk2vM9qLp0aZbC3dE4fG", "room1"}, Data: val(`{"user":"zoë"}`)},
			"hKNzaWS0WGsydk05cUxwMGFaYkMzZEU0ZkejcGlkonAxpXJvb21zkrRYazJ2TTlxTHAwYVpiQzNkRTRmR6Vyb29tMaRkYXRhgaR1c2VypHpvw6s="},
		{"without data", Session{SID: "s", PID: "p", Rooms: noRooms, Data: val(`null`)}, "hKNzaWShc6NwaWShcKVyb29tc5CkZGF0YcA="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeSession(&tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.text {
				t.Errorf("got %s, want %s", got, tc.text)
			}
			back, err := DecodeSession(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*back, tc.s) {
				t.Errorf("decoded as %+v, want %+v", *back, tc.s)
			}
		})
	}
	for _, bad := range []string{"", "!", "kA==", "gaNzaWShcw=="} {
		if s, err := DecodeSession(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeSession(%q) = %+v, %v; want ErrMalformed", bad, s, err)
		}
	}
}
