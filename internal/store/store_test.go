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
		{"author id", store.Message{Room: "r", AuthorID: "id-é"}, true},
		{"NUL in author id", store.Message{Room: "r", AuthorID: "\x00"}, false},
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

func TestCeilTimestamp(t *testing.T) {
	base := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"a whole millisecond", base, base},
		{"a nanosecond past", base.Add(time.Nanosecond), base.Add(time.Millisecond)},
		{"a nanosecond short", base.Add(-time.Nanosecond), base},
		{"another zone", base.Add(time.Microsecond).In(time.FixedZone("X", 3600)), base.Add(time.Millisecond)},
		{"with a monotonic reading", time.Now(), time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := store.CeilTimestamp(tc.in)
			if got.Location() != time.UTC || got.Before(tc.in) || got.Sub(tc.in) >= time.Millisecond ||
				got.Nanosecond()%int(time.Millisecond) != 0 {
				t.Errorf("CeilTimestamp(%v) = %v, want the first millisecond at or after it, in UTC", tc.in, got)
			}
			if !tc.want.IsZero() && got != tc.want {
				t.Errorf("CeilTimestamp(%v) = %v, want %v", tc.in, got, tc.want)
			}
			// A kept time is before in exactly when it is before the ceiling.
			for _, kept := range []time.Time{got.Add(-time.Millisecond), got, got.Add(time.Millisecond)} {
				if kept.Before(tc.in) != kept.Before(got) {
					t.Errorf("kept time %v: before %v is %v, before its ceiling %v", kept, tc.in, kept.Before(tc.in), kept.Before(got))
				}
			}
		})
	}
}

func TestClaimValidate(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6_789_000, time.UTC)
	valid := store.Claim{ID: "i", Name: "Ann", Key: "ann", Now: now, Reserve: time.Hour}
	tests := []struct {
		name   string
		change func(*store.Claim)
		ok     bool
	}{
		{"valid", func(*store.Claim) {}, true},
		{"empty name", func(c *store.Claim) { c.Name = "" }, true},
		{"no reserve", func(c *store.Claim) { c.Reserve = 0 }, true},
		{"empty id", func(c *store.Claim) { c.ID = "" }, false},
		{"empty key", func(c *store.Claim) { c.Key = "" }, false},
		{"id not UTF-8", func(c *store.Claim) { c.ID = "\xff" }, false},
		{"NUL in name", func(c *store.Claim) { c.Name = "a\x00" }, false},
		{"NUL in key", func(c *store.Claim) { c.Key = "a\x00" }, false},
		{"zero time", func(c *store.Claim) { c.Now = time.Time{} }, false},
		{"negative reserve", func(c *store.Claim) { c.Reserve = -1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.change(&c)
			err := c.Validate()
			if tc.ok && err != nil {
				t.Errorf("Validate: %v", err)
			}
			if !tc.ok && !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Validate: %v, want ErrInvalid", err)
			}
		})
	}
	id := valid.Identity()
	if id.Created != store.Timestamp(now) || id.LastSeen != id.Created || id.Secret == nil {
		t.Errorf("Identity() = %+v, want times of Now as kept and a non-nil Secret", id)
	}
	for _, tc := range []struct {
		seen    time.Time
		expired bool
	}{
		{now.Add(-time.Hour), false},
		{store.Timestamp(now).Add(-time.Hour), false},
		{store.Timestamp(now).Add(-time.Hour - time.Millisecond), true},
		{now, false},
	} {
		if got := valid.Expired(store.Identity{LastSeen: store.Timestamp(tc.seen)}); got != tc.expired {
			t.Errorf("Expired(seen %v) at %v with reserve 1h = %v, want %v", tc.seen, now, got, tc.expired)
		}
	}
}
