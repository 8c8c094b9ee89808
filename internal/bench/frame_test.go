package bench

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// TestEventNames checks that the tutorial's events are named as parley's.
func TestEventNames(t *testing.T) {
	for _, c := range []struct{ ours, parley string }{
		{eventNewUser, chat.EventNewUser},
		{eventSendChatMessage, chat.EventSendChatMessage},
		{eventChatMessage, chat.EventChatMessage},
		{eventError, chat.EventError},
	} {
		if c.ours != c.parley {
			t.Errorf("event %q, parley calls it %q", c.ours, c.parley)
		}
	}
	if got := string(connectFrame); got != "40" {
		t.Errorf("connect frame %q, want 40", got)
	}
	if got := string(newUserFrame(`a"b`)); got != `42["new-user","a\"b"]` {
		t.Errorf("new-user frame %s", got)
	}
}

// parleyFrame is a chat-message as parley sends it.
const parleyFrame = `42["chat-message",{"name":"bench-abc123-7","message":"b1|abc123|2|41|1712345678901234567","room":"general","id":981,"time":1712345678901},"PWxL8x4Rxvk-0"]`

func TestParseChat(t *testing.T) {
	mark := marker("abc123")
	live := delivery{sender: 2, seq: 41, sent: 1712345678901234567}
	tests := []struct {
		name string
		pkt  string
		want delivery
		kind chatKind
	}{
		{"parley", parleyFrame, live, chatLive},
		{"tutorial, no extra fields", `42["chat-message",{"name":"x","message":"b1|abc123|2|41|1712345678901234567"}]`, live, chatLive},
		{"message first", `42["chat-message",{"message":"b1|abc123|0|1|0","name":"x"}]`, delivery{0, 1, 0}, chatLive},
		{"history", `42["chat-message",{"name":"x","message":"b1|abc123|2|41|1712345678901234567","history":true}]`, live, chatHistory},
		{"history before the message", `42["chat-message",{"history":true,"name":"x","message":"b1|abc123|2|41|1712345678901234567"}]`, live, chatHistory},
		{"history with a space", `42["chat-message",{"message":"b1|abc123|2|41|1712345678901234567","history": true}]`, live, chatHistory},
		{"history false", `42["chat-message",{"message":"b1|abc123|2|41|1712345678901234567","history":false}]`, live, chatLive},
		{"history in a name", `42["chat-message",{"name":"\"history\":true","message":"b1|abc123|2|41|1712345678901234567"}]`, live, chatLive},
		{"another run", `42["chat-message",{"name":"x","message":"b1|ffffff|2|41|1712345678901234567"}]`, delivery{}, chatOther},
		{"not a bench message", `42["chat-message",{"name":"x","message":"hello"}]`, delivery{}, chatOther},
		{"marker in a name", `42["chat-message",{"name":"\"message\":\"b1|abc123|2|41|1\"","message":"hi"}]`, delivery{}, chatOther},
		{"marker later in the text", `42["chat-message",{"name":"x","message":"say b1|abc123|2|41|1"}]`, delivery{}, chatOther},
		{"another event", `42["user-connected","b1|abc123|2|41|1"]`, delivery{}, chatOther},
		{"another namespace", `42/chat,["chat-message",{"message":"b1|abc123|2|41|1"}]`, delivery{}, chatOther},
		{"ack id", `4212["chat-message",{"message":"b1|abc123|2|41|1"}]`, delivery{}, chatOther},
		{"empty", ``, delivery{}, chatOther},
		{"prefix only", `42["chat-message",`, delivery{}, chatOther},
		{"truncated after marker", `42["chat-message",{"message":"b1|abc123|`, delivery{}, chatMalformed},
		{"truncated in time", `42["chat-message",{"message":"b1|abc123|2|41|17123`, delivery{}, chatMalformed},
		{"no sender", `42["chat-message",{"message":"b1|abc123||41|1"}]`, delivery{}, chatMalformed},
		{"letters", `42["chat-message",{"message":"b1|abc123|2|4x|1"}]`, delivery{}, chatMalformed},
		{"negative time", `42["chat-message",{"message":"b1|abc123|2|41|-1"}]`, delivery{}, chatMalformed},
		{"extra field", `42["chat-message",{"message":"b1|abc123|2|41|1|9"}]`, delivery{}, chatMalformed},
		{"sender too long", `42["chat-message",{"message":"b1|abc123|12345678|41|1"}]`, delivery{}, chatMalformed},
		{"time overflows int64", `42["chat-message",{"message":"b1|abc123|2|41|9999999999999999999"}]`, delivery{}, chatMalformed},
		{"seq of 20 digits", `42["chat-message",{"message":"b1|abc123|2|12345678901234567890|1"}]`, delivery{}, chatMalformed},
		{"largest time", `42["chat-message",{"message":"b1|abc123|2|41|9223372036854775807"}]`, delivery{2, 41, 1<<63 - 1}, chatLive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind := parseChat([]byte(tt.pkt), mark)
			if kind != tt.kind || (kind != chatOther && kind != chatMalformed && got != tt.want) {
				t.Errorf("parseChat = %+v, %d; want %+v, %d", got, kind, tt.want, tt.kind)
			}
		})
	}
}

// TestSendRoundTrip parses what a sender sends, as the server relays it.
func TestSendRoundTrip(t *testing.T) {
	prefix := sendPrefix("abc123", 17)
	frame := appendSend(prefix, 12345, 1712345678901234567)
	want := `42["send-chat-message","b1|abc123|17|12345|1712345678901234567"]`
	if string(frame) != want {
		t.Fatalf("frame %s, want %s", frame, want)
	}
	text := strings.TrimSuffix(strings.TrimPrefix(string(frame), `42["send-chat-message",`), "]")
	relayed := `42["chat-message",{"name":"n","message":` + text + `}]`
	d, kind := parseChat([]byte(relayed), marker("abc123"))
	if kind != chatLive || d != (delivery{17, 12345, 1712345678901234567}) {
		t.Errorf("parseChat = %+v, %d", d, kind)
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint32
		want []seqResult
	}{
		{"in order", []uint32{1, 2, 3}, []seqResult{seqNew, seqNew, seqNew}},
		{"gap", []uint32{1, 3}, []seqResult{seqNew, seqNew}},
		{"late fills the gap", []uint32{1, 3, 2}, []seqResult{seqNew, seqNew, seqLate}},
		{"duplicate", []uint32{1, 2, 2}, []seqResult{seqNew, seqNew, seqDup}},
		{"duplicate of a late one", []uint32{1, 3, 2, 2}, []seqResult{seqNew, seqNew, seqLate, seqDup}},
		{"duplicate 31 back", []uint32{1, 32, 1}, []seqResult{seqNew, seqNew, seqDup}},
		{"32 back is beyond the window", []uint32{1, 33, 1}, []seqResult{seqNew, seqNew, seqLate}},
		{"a big jump clears the window", []uint32{1, 2, 100, 99, 2}, []seqResult{seqNew, seqNew, seqNew, seqLate, seqLate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			for i, s := range tt.seqs {
				if got := w.observe(s); got != tt.want[i] {
					t.Errorf("observe(%d) #%d = %d, want %d", s, i, got, tt.want[i])
				}
			}
		})
	}
}

// testClient is a client of a runner that has no connections, for the
// receive path alone.
func testClient(t testing.TB) *client {
	t.Helper()
	r, err := newRunner(Config{Clients: 2, Senders: 2, Rate: 1}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	r.winStart.Store(1)
	r.winEnd.Store(1 << 62)
	r.connecting.Add(1) // for a CONNECT packet
	return r.clients[1]
}

// TestHandleCounts feeds one receiver live, duplicate, late, echoed,
// replayed and foreign messages.
func TestHandleCounts(t *testing.T) {
	c := testClient(t)
	msg := func(sender, seq int, extra string) []byte {
		return []byte(`42["chat-message",{"name":"n","message":"b1|` + c.r.runID + "|" +
			strconv.Itoa(sender) + "|" + strconv.Itoa(seq) + `|1000"` + extra + `}]`)
	}
	for _, p := range [][]byte{
		msg(0, 1, ""), msg(0, 3, ""), msg(0, 2, ""), msg(0, 3, ""), // new, new, late, dup
		msg(1, 1, ""),                // echo: client 1 is sender 1
		msg(0, 9, `,"history":true`), // history
		msg(5, 1, ""),                // no such sender
		[]byte(`42["chat-message",{"message":"b1|000000|0|1|1"}]`), // another run
		[]byte(`42["error",{"ok":false}]`),
		[]byte(`42["user-connected","x","general"]`),
	} {
		if !c.handle(p) {
			t.Fatalf("handle(%s) ended the connection: %v", p, c.err)
		}
	}
	got := c.r.totals()
	want := totals{events: 10, live: 5, received: 3, dups: 1, late: 1, echoes: 1, history: 1, malformed: 1, serverErrors: 1}
	if got != want {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	if n := c.r.latencies().Count(); n != 3 {
		t.Errorf("%d latencies, want 3", n)
	}
}

// TestHandleControl checks the packets that end a connection or need an
// answer.
func TestHandleControl(t *testing.T) {
	tests := []struct {
		name  string
		pkt   string
		keep  bool
		wrote string
	}{
		{"ping", "2", true, "3"},
		{"ping with data", "2probe", true, "3probe"},
		{"noop", "6", true, ""},
		{"close", "1", false, ""},
		{"disconnect", "41", false, ""},
		{"connect error", `44{"message":"no"}`, false, ""},
		{"other namespace's disconnect", "41/admin,", true, ""},
		{"binary event", `451-["x",{"_placeholder":true,"num":0}]`, true, ""},
		{"empty", "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(t)
			l := &recordLink{}
			c.link = l
			if keep := c.handle([]byte(tt.pkt)); keep != tt.keep {
				t.Errorf("handle = %v, want %v (err %v)", keep, tt.keep, c.err)
			}
			if got := string(bytes.Join(l.wrote, []byte(","))); got != tt.wrote {
				t.Errorf("wrote %q, want %q", got, tt.wrote)
			}
		})
	}
}

// recordLink records what is written to it.
type recordLink struct{ wrote [][]byte }

func (l *recordLink) readLoop(func([]byte) bool) error { return nil }
func (l *recordLink) write(p []byte) error             { l.wrote = append(l.wrote, bytes.Clone(p)); return nil }
func (l *recordLink) extend(time.Duration)             {}
func (l *recordLink) close(bool, time.Duration)        {}
func (l *recordLink) probe(_, _ time.Duration) error   { return nil }

func BenchmarkParseChat(b *testing.B) {
	mark := marker("abc123")
	p := []byte(parleyFrame)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, k := parseChat(p, mark); k != chatLive {
			b.Fatal(k)
		}
	}
}

// BenchmarkHandle is the whole receive path after the transport: parse,
// sequence check, counters and histogram.
func BenchmarkHandle(b *testing.B) {
	c := testClient(b)
	p := []byte(strings.ReplaceAll(parleyFrame, "abc123", c.r.runID))
	p = bytes.Replace(p, []byte("|2|41|"), []byte("|0|41|"), 1)
	b.ReportAllocs()
	for b.Loop() {
		c.tracks[0] = window{} // so that each delivery counts
		c.handle(p)
	}
	if n := c.r.totals().received; n == 0 {
		b.Fatal("nothing received")
	}
}

func FuzzParseChat(f *testing.F) {
	f.Add([]byte(parleyFrame))
	f.Add([]byte(`42["chat-message",{"message":"b1|abc123|2|41|1","history":true}]`))
	f.Add([]byte(`42["chat-message",{"message":"b1|abc123|`))
	f.Add([]byte(`42["chat-message",{"message":"b1|abc123|99999999|1|1"}]`))
	mark := marker("abc123")
	f.Fuzz(func(t *testing.T, p []byte) {
		d, kind := parseChat(p, mark)
		if kind == chatLive || kind == chatHistory {
			if !bytes.HasPrefix(p, chatPrefix) || !bytes.Contains(p, mark) || d.sent < 0 || d.sender > 9_999_999 {
				t.Fatalf("parseChat(%q) = %+v, %d", p, d, kind)
			}
		}
		c := testClient(t)
		c.link = &recordLink{}
		c.handle(p)
	})
}
