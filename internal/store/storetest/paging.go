package storetest

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

func testHistory(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	fill(t, s, "r", 10)
	fill(t, s, "other", 3)
	if _, err := s.CreateRoom(Context(t), "empty"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		room   string
		before int64
		limit  int
		want   []int64
	}{
		{"latest", "r", 0, 3, span(8, 10)},
		{"latest negative before", "r", -1, 3, span(8, 10)},
		{"page before 8", "r", 8, 3, span(5, 7)},
		{"page before 5", "r", 5, 3, span(2, 4)},
		{"short page", "r", 2, 3, span(1, 1)},
		{"before first", "r", 1, 3, nil},
		{"limit over count", "r", 0, 100, span(1, 10)},
		{"before past last", "r", 1000, 2, span(9, 10)},
		{"limit zero", "r", 0, 0, nil},
		{"limit negative", "r", 0, -5, nil},
		{"other room", "other", 0, 10, span(1, 3)},
		{"empty room", "empty", 0, 10, nil},
		{"unknown room", "nowhere", 0, 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.History(Context(t), tc.room, tc.before, tc.limit)
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			want := tc.want
			if want == nil {
				want = []int64{}
			}
			checkIDs(t, "History", got, want)
			for _, m := range got {
				if m.Room != tc.room || m.Text != fmt.Sprintf("%s %d", tc.room, m.ID) {
					t.Errorf("message %+v: wrong room or text", m)
				}
			}
		})
	}
}

func testSince(t *testing.T, open func() store.Store) {
	s := openStore(t, open)
	fill(t, s, "r", 10)
	fill(t, s, "other", 3)
	tests := []struct {
		name  string
		room  string
		after int64
		limit int
		want  []int64
	}{
		{"from start", "r", 0, 3, span(1, 3)},
		{"negative after", "r", -7, 2, span(1, 2)},
		{"after 3", "r", 3, 3, span(4, 6)},
		{"tail", "r", 8, 10, span(9, 10)},
		{"caught up", "r", 10, 10, nil},
		{"ahead", "r", 50, 10, nil},
		{"limit zero", "r", 0, 0, nil},
		{"other room", "other", 1, 10, span(2, 3)},
		{"unknown room", "nowhere", 0, 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Since(Context(t), tc.room, tc.after, tc.limit)
			if err != nil {
				t.Fatalf("Since: %v", err)
			}
			want := tc.want
			if want == nil {
				want = []int64{}
			}
			checkIDs(t, "Since", got, want)
		})
	}
}
