package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/bench"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// TestFillHistory fills a store and reads the default room back: the
// messages of historyMessage, in order, numbered from 1.
func TestFillHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), parleyDB)
	if err := fillHistory(ctx, path, 20); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msgs, err := st.History(ctx, chat.DefaultRoom, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 20 {
		t.Fatalf("%d messages, want 20", len(msgs))
	}
	for i, m := range msgs {
		name, text := historyMessage(i)
		if m.ID != int64(i+1) || m.Author != name || m.Text != text {
			t.Errorf("message %d: %d %q %q, want %d %q %q", i, m.ID, m.Author, m.Text, i+1, name, text)
		}
	}
	if _, text := historyMessage(199); text != "message 200 of the room's history, of a length chat messages often have" {
		t.Errorf("message 200: %q", text)
	}
}

// TestNodeHistoryIsParleys checks that node/server.js makes the messages
// that fillHistory stores for parley.
func TestNodeHistoryIsParleys(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("node", "server.js"))
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	for _, want := range []string{
		"`" + strings.Replace(historyText, "%d", "${i + 1}", 1) + "`",
		"`person${i % " + strconv.Itoa(historyPeople) + "}`",
		"process.env.HISTORY_SENT",
	} {
		if !strings.Contains(js, want) {
			t.Errorf("node/server.js has no %s", want)
		}
	}
}

func TestEventsPerClient(t *testing.T) {
	for _, tc := range []struct {
		name     string
		r        bench.Report
		wantV    float64
		wantText string
		wantOK   bool
	}{
		{"history", bench.Report{Connected: 5000, SettleEvents: 250000}, 50, "50.0", true},
		{"nothing sent", bench.Report{Connected: 10}, 0, "0", true},
		{"none connected", bench.Report{}, 0, "—", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, text, ok := eventsPerClient(&result{Report: tc.r})
			if v != tc.wantV || text != tc.wantText || ok != tc.wantOK {
				t.Errorf("got %v, %q, %v; want %v, %q, %v", v, text, ok, tc.wantV, tc.wantText, tc.wantOK)
			}
		})
	}
}
