package main

import "testing"

func TestTailBuffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"nothing", 5, nil, ""},
		{"under the limit", 5, []string{"ab", "c"}, "abc"},
		{"at the limit", 5, []string{"abcde"}, "abcde"},
		{"over, across writes", 5, []string{"abc", "defg"}, "cdefg"},
		{"one write over", 5, []string{"0123456789"}, "56789"},
		{"many writes", 3, []string{"a", "b", "c", "d", "e"}, "cde"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &tailBuffer{max: tc.max}
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
			}
			if got := b.String(); got != tc.want {
				t.Errorf("kept %q, want %q", got, tc.want)
			}
		})
	}
}
