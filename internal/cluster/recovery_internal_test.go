package cluster

import (
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/socketio"
)

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want socketio.Offset
		ok   bool
	}{
		{"0-0", socketio.Offset{}, true},
		{"1526919030474-55", socketio.Offset{Hi: 1526919030474, Lo: 55}, true},
		{"18446744073709551615-18446744073709551615", socketio.Offset{Hi: 1<<64 - 1, Lo: 1<<64 - 1}, true},
		{"18446744073709551616-0", socketio.Offset{}, false},
		{"", socketio.Offset{}, false},
		{"1", socketio.Offset{}, false},
		{"1-", socketio.Offset{}, false},
		{"-1", socketio.Offset{}, false},
		{"1-2-3", socketio.Offset{}, false},
		{"+1-2", socketio.Offset{}, false},
		{"1-0x2", socketio.Offset{}, false},
		{"abc-1", socketio.Offset{}, false},
		{"kXy2-17", socketio.Offset{}, false}, // a single node's offset
	} {
		got, ok := parseID(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("parseID(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseID checks that parseID never panics, and takes only what the
// reference takes for an offset: digits, a dash, digits.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"0-0", "1526919030474-55", "1-", "-", "1-2-3", "٣-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := parseID(s)
		if !ok {
			return
		}
		want := strconv.FormatUint(o.Hi, 10) + "-" + strconv.FormatUint(o.Lo, 10)
		for i := range len(s) {
			if c := s[i]; (c < '0' || c > '9') && c != '-' {
				t.Fatalf("parseID(%q) took a %q", s, c)
			}
		}
		if back, ok := parseID(want); !ok || back != o {
			t.Fatalf("parseID(%q) = %+v, which reads back as %+v", s, o, back)
		}
	})
}
