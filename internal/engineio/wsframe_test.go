package engineio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
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
				if tt.wantCode == 0 && (r.pending != nil || r.msg != nil) {
					t.Errorf("reader holds %d pending and %d message bytes after complete frames", len(r.pending), len(r.msg))
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

func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(true, opText, []byte("4hello")), 3)
	f.Add(cat(clientFrame(false, opText, []byte("4he")), clientFrame(true, opPing, nil), clientFrame(true, opContinuation, []byte("llo"))), 5)
	f.Add([]byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 1, 0}, 1)
	f.Fuzz(func(t *testing.T, stream []byte, cut int) {
		whole := &frameReader{maxMessage: 4096}
		var a []string
		errA := whole.feed(stream, func(op byte, p []byte) error {
			if op < opClose && len(p) > 4096 {
				t.Fatalf("message of %d bytes passed the limit", len(p))
			}
			a = append(a, fmt.Sprintf("%d:%x", op, p))
			return nil
		})
		pieces := &frameReader{maxMessage: 4096}
		var b []string
		var errB error
		if cut = max(cut%64, 1); cut < 0 {
			cut = -cut
		}
		for s := stream; len(s) > 0 && errB == nil; {
			n := min(cut, len(s))
			errB = pieces.feed(s[:n], func(op byte, p []byte) error { b = append(b, fmt.Sprintf("%d:%x", op, p)); return nil })
			s = s[n:]
		}
		if (errA == nil) != (errB == nil) || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("whole: %v %v; in pieces of %d: %v %v", a, errA, cut, b, errB)
		}
	})
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
