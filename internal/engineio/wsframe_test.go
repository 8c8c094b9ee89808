package engineio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// clientFrame returns one masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	dst := []byte{b0}
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	dst = append(dst, key...)
	for i, c := range payload {
		dst = append(dst, c^key[i%4])
	}
	return dst
}

// got is one call of feed's callback, as text.
func gotFrames(t *testing.T, r *frameReader, chunks [][]byte) ([]string, error) {
	t.Helper()
	var out []string
	for _, c := range chunks {
		err := r.feed(c, func(op byte, payload []byte) error {
			out = append(out, fmt.Sprintf("%d:%s", op, payload))
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestFrameReader(t *testing.T) {
	long := strings.Repeat("abcdefghij", 30)   // 300 bytes: 16-bit length
	huge := strings.Repeat("0123456789", 7000) // 70,000 bytes: 64-bit length
	tests := []struct {
		name     string
		stream   []byte
		want     []string
		wantCode uint16 // close code of the expected protocol error
	}{
		{"text", clientFrame(true, opText, []byte("4hello")), []string{"1:4hello"}, 0},
		{"binary", clientFrame(true, opBinary, []byte{1, 2, 3}), []string{"2:\x01\x02\x03"}, 0},
		{"empty", clientFrame(true, opBinary, nil), []string{"2:"}, 0},
		{"16-bit length", clientFrame(true, opText, []byte(long)), []string{"1:" + long}, 0},
		{"64-bit length", clientFrame(true, opText, []byte(huge)), []string{"1:" + huge}, 0},
		{"two in a row", cat(clientFrame(true, opText, []byte("4a")), clientFrame(true, opText, []byte("4b"))), []string{"1:4a", "1:4b"}, 0},
		{"fragmented with a ping inside", cat(
			clientFrame(false, opText, []byte("4he")),
			clientFrame(true, opPing, []byte("p")),
			clientFrame(false, opContinuation, []byte("ll")),
			clientFrame(true, opContinuation, []byte("o"))),
			[]string{"9:p", "1:4hello"}, 0},
		{"pong and close", cat(clientFrame(true, opPong, nil), clientFrame(true, opClose, []byte{3, 232})), []string{"10:", "8:\x03\xe8"}, 0},
		{"unmasked", []byte{0x81, 0x01, 'x'}, nil, closeProtocolError},
		{"reserved bit", append([]byte{0xC1}, clientFrame(true, opText, []byte("x"))[1:]...), nil, closeProtocolError},
		{"unknown opcode", clientFrame(true, 0x3, []byte("x")), nil, closeProtocolError},
		{"fragmented control", clientFrame(false, opPing, nil), nil, closeProtocolError},
		{"long control", clientFrame(true, opPing, make([]byte, 126)), nil, closeProtocolError},
		{"continuation first", clientFrame(true, opContinuation, []byte("x")), nil, closeProtocolError},
		{"message inside a message", cat(clientFrame(false, opText, []byte("4")), clientFrame(true, opText, []byte("4"))), nil, closeProtocolError},
		{"too big", clientFrame(true, opBinary, make([]byte, 100_001)), nil, closeTooBig},
		{"too big in fragments", cat(clientFrame(false, opBinary, make([]byte, 60_000)), clientFrame(true, opContinuation, make([]byte, 60_000))), nil, closeTooBig},
		{"too big announced", []byte{0x82, 0xFF, 0, 0, 0, 0, 0x10, 0, 0, 0}, nil, closeTooBig},
		{"length out of range", []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, nil, closeProtocolError},
		{"invalid UTF-8", clientFrame(true, opText, []byte{'4', 0xff}), nil, closeInvalidData},
		{"invalid UTF-8 across fragments", cat(clientFrame(false, opText, []byte{'4', 0xe2}), clientFrame(true, opContinuation, []byte{0x82})), nil, closeInvalidData},
		{"UTF-8 split across fragments", cat(clientFrame(false, opText, []byte{'4', 0xe2, 0x82}), clientFrame(true, opContinuation, []byte{0xac})), []string{"1:4€"}, 0},
		{"close without payload", clientFrame(true, opClose, nil), []string{"8:"}, 0},
		{"close 1012 with a reason", clientFrame(true, opClose, []byte("\x03\xf4restart")), []string{"8:\x03\xf4restart"}, 0},
		{"close 4999", clientFrame(true, opClose, []byte{0x13, 0x87}), []string{"8:\x13\x87"}, 0},
		{"close with a 1-byte payload", clientFrame(true, opClose, []byte{3}), nil, closeProtocolError},
		{"close code 0", clientFrame(true, opClose, []byte{0, 0}), nil, closeProtocolError},
		{"close code 1005", clientFrame(true, opClose, []byte{0x03, 0xed}), nil, closeProtocolError},
		{"close code 1015", clientFrame(true, opClose, []byte{0x03, 0xf7}), nil, closeProtocolError},
		{"close code 2999", clientFrame(true, opClose, []byte{0x0b, 0xb7}), nil, closeProtocolError},
		{"close code 5000", clientFrame(true, opClose, []byte{0x13, 0x88}), nil, closeProtocolError},
		{"close reason not UTF-8", clientFrame(true, opClose, []byte{0x03, 0xe8, 'x', 0xff}), nil, closeInvalidData},
	}
	for _, tt := range tests {
		// Whole, byte by byte, and in chunks of 7: the result must not
		// depend on how the stream is cut.
		for _, size := range []int{len(tt.stream), 1, 7} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				r := &frameReader{maxMessage: 100_000}
				var chunks [][]byte
				for s := tt.stream; len(s) > 0; {
					n := min(size, len(s))
					chunks = append(chunks, s[:n])
					s = s[n:]
				}
				got, err := gotFrames(t, r, chunks)
				var pe *wsProtocolError
				switch {
				case tt.wantCode != 0 && (!errors.As(err, &pe) || pe.code != tt.wantCode):
					t.Fatalf("error %v, want close code %d", err, tt.wantCode)
				case tt.wantCode == 0 && err != nil:
					t.Fatalf("error %v", err)
				}
				if tt.wantCode == 0 && (fmt.Sprint(got) != fmt.Sprint(tt.want)) {
					t.Errorf("got %.80q, want %.80q", got, tt.want)
				}
				if tt.wantCode == 0 && (r.hdrLen != 0 || r.buffered() != 0 || r.inFrame || r.msgOp != 0) {
					t.Errorf("reader holds %d header and %d buffered bytes after complete frames", r.hdrLen, r.buffered())
				}
			})
		}
	}
}

func TestValidCloseCode(t *testing.T) {
	valid := map[uint16]bool{}
	for c := uint16(1000); c <= 1003; c++ {
		valid[c] = true
	}
	for c := uint16(1007); c <= 1014; c++ {
		valid[c] = true
	}
	for c := uint16(3000); c <= 4999; c++ {
		valid[c] = true
	}
	for c := range 1 << 16 {
		if got := validCloseCode(uint16(c)); got != valid[uint16(c)] {
			t.Errorf("validCloseCode(%d) = %v", c, got)
		}
	}
}

// TestFrameReaderHoldsOnlyWhatIsPending feeds streams in the pieces a
// connection reads them in and checks what the reader keeps afterwards: no
// more than twice what arrived of the frame or message still incomplete,
// never the buffer a large message grew before it.
func TestFrameReaderHoldsOnlyWhatIsPending(t *testing.T) {
	big := clientFrame(true, opBinary, bytes.Repeat([]byte{7}, 900_000))
	half := clientFrame(false, opText, bytes.Repeat([]byte("4"), 500_000))
	tests := []struct {
		name   string
		stream []byte
		msgs   int // messages and control frames the stream completes
		limit  int // bytes the reader may hold afterwards
	}{
		// What is left is a frame header's start, which the reader
		// keeps in an array of its own.
		{"a large message and a byte of the next frame", cat(big, []byte{0x82}), 1, 0},
		{"a large message and most of the next header", cat(big, clientFrame(true, opText, []byte("4next"))[:5]), 1, 0},
		{"a large message, a ping and a byte", cat(big, clientFrame(true, opPing, []byte("p")), []byte{0x89}), 2, 0},
		{"a large message in two fragments and a byte", cat(half, clientFrame(true, opContinuation, bytes.Repeat([]byte("4"), 400_000)), []byte{0x81}), 1, 0},
		// What is left is part of a message: at most twice what
		// arrived of it, or the least a message buffer grows by.
		{"half a large message", big[:450_000], 0, 2 * 450_000},
		{"a header announcing a large message, and 10 bytes", big[:24], 0, minMessageGrowth},
		{"a fragment and a byte of the next", cat(half, clientFrame(true, opContinuation, []byte("x"))[:1]), 0, 2 * 500_000},
	}
	for _, tt := range tests {
		for _, size := range []int{16 << 10, 4096, 1000} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				r := &frameReader{maxMessage: 1 << 20}
				msgs := 0
				for s := tt.stream; len(s) > 0; {
					n := min(size, len(s))
					if err := r.feed(s[:n], func(byte, []byte) error { msgs++; return nil }); err != nil {
						t.Fatal(err)
					}
					s = s[n:]
				}
				if msgs != tt.msgs {
					t.Fatalf("%d messages and control frames, want %d", msgs, tt.msgs)
				}
				if got := r.buffered(); got > tt.limit {
					t.Errorf("reader holds %d bytes, want at most %d", got, tt.limit)
				}
			})
		}
	}
}

// TestFrameReaderFailsFast feeds the start of text messages: invalid UTF-8
// must fail them as soon as it arrives, before the message is complete,
// while a valid sequence cut short waits for the rest.
func TestFrameReaderFailsFast(t *testing.T) {
	start := clientFrame(false, opText, []byte("4κόσμε"))
	tests := []struct {
		name   string
		stream []byte
		fail   bool
	}{
		{"fragment with a code point past U+10FFFF", cat(start, clientFrame(false, opContinuation, []byte{0xf4, 0x90, 0x80, 0x80})), true},
		{"fragment ending at the first invalid byte", cat(start, clientFrame(false, opContinuation, []byte{0xf4, 0x90})), true},
		{"fragment ending in a surrogate's first two bytes", cat(start, clientFrame(false, opContinuation, []byte{0xed, 0xa0})), true},
		{"fragment with a lone continuation byte", cat(start, clientFrame(false, opContinuation, []byte{'a', 0x80})), true},
		{"part of a frame with an overlong sequence", clientFrame(true, opText, []byte("4ab\xc0\xaf and more to come"))[:10], true},
		{"fragment ending in a valid 4-byte sequence's first three", cat(start, clientFrame(false, opContinuation, []byte{0xf0, 0x9f, 0x98})), false},
		{"fragment ending in a valid 3-byte sequence's first byte", cat(start, clientFrame(false, opContinuation, []byte{'a', 0xe2})), false},
		{"part of a frame ending in a valid sequence's first byte", clientFrame(true, opText, []byte("4ab\xe2\x82\xac and more"))[:10], false},
		{"binary fragment that is not UTF-8", cat(clientFrame(false, opBinary, []byte{0xff}), clientFrame(false, opContinuation, []byte{0xc0})), false},
	}
	for _, tt := range tests {
		for _, size := range []int{len(tt.stream), 1} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				r := &frameReader{maxMessage: 1000}
				var chunks [][]byte
				for s := tt.stream; len(s) > 0; s = s[min(size, len(s)):] {
					chunks = append(chunks, s[:min(size, len(s))])
				}
				got, err := gotFrames(t, r, chunks)
				var pe *wsProtocolError
				switch {
				case tt.fail && (!errors.As(err, &pe) || pe.code != closeInvalidData):
					t.Fatalf("error %v, want close code 1007 before the message is complete", err)
				case !tt.fail && err != nil:
					t.Fatalf("error %v", err)
				case len(got) != 0:
					t.Fatalf("handed out %q from an incomplete message", got)
				}
			})
		}
	}
}

// TestFrameReaderOwnership checks that payloads handed out do not share
// memory with the input or with each other.
func TestFrameReaderOwnership(t *testing.T) {
	r := &frameReader{maxMessage: 1000}
	in := cat(clientFrame(true, opText, []byte("4one")), clientFrame(true, opText, []byte("4two")))
	var got [][]byte
	if err := r.feed(in, func(_ byte, p []byte) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	clear(in)
	if string(got[0]) != "4one" || string(got[1]) != "4two" {
		t.Fatalf("payloads changed with the input: %q", got)
	}
}

// TestFrameReaderStops checks that an error from the callback stops the
// parse and comes back.
func TestFrameReaderStops(t *testing.T) {
	r := &frameReader{maxMessage: 1000}
	stop := errors.New("stop")
	calls := 0
	err := r.feed(cat(clientFrame(true, opText, []byte("4a")), clientFrame(true, opText, []byte("4b"))),
		func(byte, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err %v after %d calls, want stop after 1", err, calls)
	}
}

// FuzzFrameReader feeds a stream whole and in pieces: both must hand out
// the same frames and end with the same close code, text must be UTF-8,
// messages within the limit, and what the reader keeps between pieces
// bounded by what is incomplete.
func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(true, opText, []byte("4hello")), 3)
	f.Add(cat(clientFrame(false, opText, []byte("4he")), clientFrame(true, opPing, nil), clientFrame(true, opContinuation, []byte("llo"))), 5)
	f.Add([]byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 1, 0}, 1)
	f.Add(cat(clientFrame(false, opText, []byte("4\xe2")), clientFrame(true, opContinuation, []byte("\x82\xac"))), 1)
	f.Add(cat(clientFrame(false, opText, []byte("4κ")), clientFrame(false, opContinuation, []byte{0xf4, 0x90})), 2)
	f.Add(clientFrame(true, opClose, []byte{0x03, 0xe8, 'o', 'k'}), 4)
	f.Add(clientFrame(true, opClose, []byte{0x03, 0xed}), 1)
	f.Add(cat(clientFrame(true, opBinary, make([]byte, 3000)), []byte{0x81}), 63)
	f.Fuzz(func(t *testing.T, stream []byte, cut int) {
		collect := func(out *[]string) func(byte, []byte) error {
			return func(op byte, p []byte) error {
				if op < opClose && len(p) > 4096 {
					t.Fatalf("message of %d bytes passed the limit", len(p))
				}
				if op == opText && !utf8.Valid(p) {
					t.Fatalf("text message %q is not UTF-8", p)
				}
				*out = append(*out, fmt.Sprintf("%d:%x", op, p))
				return nil
			}
		}
		whole := &frameReader{maxMessage: 4096}
		var a []string
		errA := whole.feed(stream, collect(&a))
		pieces := &frameReader{maxMessage: 4096}
		var b []string
		var errB error
		if cut = max(cut%64, 1); cut < 0 {
			cut = -cut
		}
		for s := stream; len(s) > 0 && errB == nil; {
			n := min(cut, len(s))
			errB = pieces.feed(s[:n], collect(&b))
			s = s[n:]
			if cap(pieces.msg) > max(2*len(pieces.msg), minMessageGrowth) || cap(pieces.ctrl) > 125 {
				t.Fatalf("reader holds %d bytes for a message of %d and %d for a control frame of %d", cap(pieces.msg), len(pieces.msg), cap(pieces.ctrl), len(pieces.ctrl))
			}
		}
		if fmt.Sprint(a) != fmt.Sprint(b) || closeCode(errA) != closeCode(errB) {
			t.Fatalf("whole: %v %v; in pieces of %d: %v %v", a, errA, cut, b, errB)
		}
	})
}

// closeCode returns the close code of a protocol error, 0 for none.
func closeCode(err error) uint16 {
	var pe *wsProtocolError
	if errors.As(err, &pe) {
		return pe.code
	}
	return 0
}

func BenchmarkFrameReader(b *testing.B) {
	msg := clientFrame(true, opText, []byte(`42["send-chat-message","hello there, how are you doing today?"]`))
	r := &frameReader{maxMessage: 1 << 20}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.feed(msg, func(byte, []byte) error { return nil })
	}
}

// BenchmarkFrameReaderChunked measures a message of 256 KiB that arrives
// in reads of 16 KiB, as from a socket.
func BenchmarkFrameReaderChunked(b *testing.B) {
	msg := clientFrame(true, opText, bytes.Repeat([]byte("4"), 256<<10))
	r := &frameReader{maxMessage: 1 << 20}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		for s := msg; len(s) > 0; s = s[min(16<<10, len(s)):] {
			_ = r.feed(s[:min(16<<10, len(s))], func(byte, []byte) error { return nil })
		}
	}
}
