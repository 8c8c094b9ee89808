package bench

import (
	"testing"
)

func TestParseAck(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		id    uint64
		ok    bool
		code  string
		valid bool
	}{
		{"accepted", `12[{"ok":true,"id":7,"time":1,"room":"general"}]`, 12, true, "", true},
		{"refused", `3[{"ok":false,"code":"rate_limited","error":"too many events; slow down"}]`, 3, false, "rate_limited", true},
		{"refused without a code", `3[{"ok":false}]`, 3, false, "", true},
		{"no arguments", `4[]`, 4, false, "", true},
		{"no id", `[{"ok":true}]`, 0, false, "", false},
		{"not a number", `x1[{"ok":true}]`, 0, false, "", false},
		{"no arguments at all", `5`, 0, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, code, valid := parseAck([]byte(tt.in))
			if id != tt.id || ok != tt.ok || code != tt.code || valid != tt.valid {
				t.Errorf("parseAck(%q) = %d, %v, %q, %v; want %d, %v, %q, %v", tt.in, id, ok, code, valid, tt.id, tt.ok, tt.code, tt.valid)
			}
		})
	}
}

func TestAppendAckSend(t *testing.T) {
	body := sendPrefix("r1", 2)[len(eventPrefix):]
	got := string(appendAckSend(nil, body, 17, 99))
	if want := `4217["send-chat-message","b1|r1|2|17|99"]`; got != want {
		t.Errorf("appendAckSend = %s, want %s", got, want)
	}
}

func TestBitset(t *testing.T) {
	var b bitset
	for _, i := range []uint64{0, 1, 63, 64, 1000, 70_000} {
		b.set(i)
	}
	for i := range uint64(70_100) {
		want := i == 0 || i == 1 || i == 63 || i == 64 || i == 1000 || i == 70_000
		if b.has(i) != want {
			t.Fatalf("has(%d) = %v", i, !want)
		}
	}
}

// TestCheckAcks checks the accounting of acked messages against steady
// clients that missed some, with messages that were never acked.
func TestCheckAcks(t *testing.T) {
	r := &runner{cfg: Config{Senders: 2}}
	seqs := func(ns ...uint64) bitset {
		var b bitset
		for _, n := range ns {
			b.set(n)
		}
		return b
	}
	// Sender 0 sent 1..5 in the window, all acked but 3, refused; sender
	// 1 sent 2..4 (1 was in the warm-up), 4 unanswered.
	s0 := &client{sender: 0, acked: seqs(1, 2, 4, 5)}
	s0.firstMeasured.Store(1)
	s0.lastMeasured.Store(5)
	s0.sentMeasured.Store(5)
	s0.ackedN.Store(4)
	s0.refused.Store(1)
	s1 := &client{sender: 1, acked: seqs(1, 2, 3)}
	s1.firstMeasured.Store(2)
	s1.lastMeasured.Store(4)
	s1.sentMeasured.Store(3)
	s1.ackedN.Store(2)
	r.clients = []*client{s0, s1}
	// Sender 0 heard all of sender 1's; a receiver missed 4 and 5 of
	// sender 0 and 3 of sender 1 (an unacked 3 of sender 0 arrived
	// anyway); another missed 5 of sender 0.
	s0.recv = []bitset{nil, seqs(1, 2, 3)}
	a := &client{sender: -1, recv: []bitset{seqs(1, 2, 3), seqs(1, 2, 4)}}
	b := &client{sender: -1, recv: []bitset{seqs(1, 2, 3, 4), seqs(2, 3)}}
	f := r.checkAcks([]*client{s0, a, b})
	want := ackFigures{acked: 6, refused: 1, unanswered: 1, steady: 3, lost: 3, missing: 4}
	if f != want {
		t.Errorf("checkAcks = %+v, want %+v", f, want)
	}
}
