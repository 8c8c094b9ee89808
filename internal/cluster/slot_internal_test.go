package cluster

import "testing"

// TestSlot checks key slots against values Redis gives (CLUSTER KEYSLOT),
// and the hash tag rules of the cluster specification.
func TestSlot(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"", 0},
		{"123456789", 0x31c3}, // CRC-16/XMODEM's check value
		{"foo", 12182},
		{"bar", 5061},
		{"somekey", 11058},
		{"{user1000}.following", 3443},
	} {
		if got := slot(tc.key); got != tc.want {
			t.Errorf("slot(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
	// What is hashed of each key: its hash tag, or all of it.
	for _, tc := range []struct{ key, same string }{
		{"{user1000}.followers", "user1000"},
		{"foo{bar}{zap}", "bar"},
		{"foo{{bar}}zap", "{bar"},
		{"{}foo", "{}foo"},
		{"foo{}{bar}", "foo{}{bar}"},
		{"{socket.io}:seq:room:x", "socket.io"},
	} {
		if got, want := slot(tc.key), crcSlot(tc.same); got != want {
			t.Errorf("slot(%q) = %d, want %d, the CRC of %q", tc.key, got, want, tc.same)
		}
	}
}

// crcSlot is the slot of s hashed whole.
func crcSlot(s string) int { return int(crc16(s)) % slotCount }

func BenchmarkSlot(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		slot("socket.io#/#0123456789abcdef#")
	}
}
