package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// Limits of the second server TestBrowserPage starts, lower than the
// defaults, so that the page shows it learned them.
const (
	pageTestMaxName    = 12
	pageTestMaxMessage = 120
)

// TestBrowserPage drives the page's own behaviour in headless Chromium
// (test/js/browser-page.mjs): keyboard use and focus, right-to-left text,
// links and formatting, lengths counted as the server counts them, drafts,
// the "New messages" divider and date separators, emoji, late acks,
// limits, folded presence lines and mentions. The store starts with a room
// of messages from earlier days; a second server has lower limits.
func TestBrowserPage(t *testing.T) {
	testjs.RequireBrowser(t)
	db := filepath.Join(t.TempDir(), "parley.db")
	seedDays(t, db, time.Now())
	ts := newTestApp(t, config{Store: db})
	limited := newTestApp(t, config{MaxNameLength: pageTestMaxName, MaxMessageLength: pageTestMaxMessage})
	shots := os.Getenv("PARLEY_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	testjs.Run(t, 5*time.Minute, "browser-page.mjs",
		"PARLEY_URL="+ts.URL,
		"PARLEY_LIMITS_URL="+limited.URL,
		fmt.Sprintf(`PARLEY_LIMITS={"name":%d,"message":%d}`, pageTestMaxName, pageTestMaxMessage),
		"PARLEY_SHOTS="+shots)
}

// seedDays stores, in the room "days" of the store at path, messages from
// three days and from one day before now.
func seedDays(t *testing.T, path string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	msgs := []store.Message{
		{Room: "days", Author: "Archie", Text: "Three days ago, first.", Time: now.Add(-72 * time.Hour)},
		{Room: "days", Author: "Archie", Text: "Three days ago, second.", Time: now.Add(-72*time.Hour + time.Minute)},
		{Room: "days", Author: "Bea", Text: "Yesterday.", Time: now.Add(-24 * time.Hour)},
	}
	if _, err := st.Append(ctx, msgs); err != nil {
		t.Fatalf("seeding the store: %v", err)
	}
}
