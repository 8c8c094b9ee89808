package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		m    store.Message
		ok   bool
	}{
		{"minimal", store.Message{Room: "r"}, true},
		{"unicode", store.Message{Room: "salle 🌍", Author: "Zoë", Text: "héllo 👋", ClientID: "é"}, true},
		{"empty room", store.Message{Text: "x"}, false},
		{"room not UTF-8", store.Message{Room: "\xff"}, false},
		{"NUL in room", store.Message{Room: "a\x00"}, false},
		{"author not UTF-8", store.Message{Room: "r", Author: "\xc3"}, false},
		{"NUL in text", store.Message{Room: "r", Text: "\x00"}, false},
		{"client id not UTF-8", store.Message{Room: "r", ClientID: "\xe2\x82"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if tc.ok && err != nil {
				t.Errorf("Validate: %v", err)
			}
			if !tc.ok && !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Validate: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPrepare(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("CET", 3600))
	given := time.Date(2020, 6, 7, 8, 9, 10, 999_999_999, time.FixedZone("X", -7200))
	in := []store.Message{
		{Room: "r", ID: 42, Text: "zero time"},
		{Room: "r", Text: "given time", Time: given},
	}
	out, err := store.Prepare(in, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 1, 2, 2, 4, 5, 678_000_000, time.UTC); out[0].Time != want {
		t.Errorf("zero Time became %v, want %v", out[0].Time, want)
	}
	if want := time.Date(2020, 6, 7, 10, 9, 10, 999_000_000, time.UTC); out[1].Time != want {
		t.Errorf("given Time became %v, want %v", out[1].Time, want)
	}
	if out[0].ID != 0 {
		t.Errorf("ID %d kept, want it cleared", out[0].ID)
	}
	if in[0].ID != 42 || !in[0].Time.IsZero() {
		t.Errorf("Prepare changed its input: %+v", in[0])
	}
	if _, err := store.Prepare([]store.Message{{Room: "r"}, {}}, now); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Prepare of an invalid message: %v, want ErrInvalid", err)
	}
}
