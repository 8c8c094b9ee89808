package main

import (
	"os"
	"testing"
)

// sockstat is /proc/net/sockstat as Linux writes it.
const sockstat = `sockets: used 33
TCP: inuse 14 orphan 0 tw 75 alloc 17 mem 3
UDP: inuse 0 mem 9
UDPLITE: inuse 0
RAW: inuse 0
FRAG: inuse 0 memory 0
`

func TestSockstatTCPMem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   string
		want   int64
		wantOK bool
	}{
		{"linux", sockstat, 3, true},
		{"large", "sockets: used 1\nTCP: inuse 5000 orphan 0 tw 0 alloc 5001 mem 1048576\n", 1 << 20, true},
		{"zero", "TCP: inuse 0 orphan 0 tw 0 alloc 0 mem 0\n", 0, true},
		{"the first line, no newline", "TCP: inuse 1 mem 7", 7, true},
		{"mem first", "TCP: mem 4 inuse 1\n", 4, true},
		{"not UDP's mem", "sockets: used 1\nUDP: inuse 0 mem 9\nTCP: inuse 1 alloc 1\n", 0, false},
		{"not TCP6's", "TCP6: inuse 1 mem 5\n", 0, false},
		{"no TCP line", "sockets: used 1\nUDP: inuse 0 mem 9\n", 0, false},
		{"empty", "", 0, false},
		{"mem without a value", "TCP: inuse 1 mem\n", 0, false},
		{"mem as a value", "TCP: inuse mem alloc 2\n", 0, false},
		{"not a number", "TCP: inuse 1 mem many\n", 0, false},
		{"negative", "TCP: inuse 1 mem -1\n", 0, false},
		{"too large", "TCP: mem 99999999999999999999\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := sockstatTCPMem([]byte(tc.text))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("sockstatTCPMem(%q) = %d, %v; want %d, %v", tc.text, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestTCPMemKiB reads this machine's /proc/net/sockstat, where there is
// one.
func TestTCPMemKiB(t *testing.T) {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		t.Skipf("no /proc/net/sockstat: %v", err)
	}
	kib, ok := tcpMemKiB()
	if !ok || kib < 0 {
		t.Fatalf("tcpMemKiB() = %d, %v from\n%s", kib, ok, b)
	}
}
