package web_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/names"
	"github.com/parley-chat/parley/internal/test/testjs"
)

// TestPageRoomKey runs test/js/roomnames.test.mjs in Node: that the page
// folds room names (roomKey of static/js/text.js) as the server does
// (names.Key), exactly for names of ASCII letters, digits and spaces, and
// never more than it for others, so that the page takes two names for one
// room only when the server does.
func TestPageRoomKey(t *testing.T) {
	testjs.RequireNode(t)
	type named struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	var cases []named
	add := func(name string) { cases = append(cases, named{name, names.Key(name)}) }
	for _, n := range []string{
		"general", "General", "GENERAL", "  general ", "gen  eral", "generaI", "genera1", "genera|",
		"Random", "rAnDoM", "modern", "modem", "vvave", "wave", "r n", "b00k", "book", "B0OK",
		"ｇｅｎｅｒａｌ", "Ｒａｎｄｏｍ", "ｖｖ", "rаndom", "Ünïcode", "ÜNÏCODE", "ß", "ss", "İstanbul", "istanbul",
		"日本語", "Σίσυφος", "ΣΊΣΥΦΟΣ", "Straße", "STRASSE",
	} {
		add(n)
	}
	// Random names over the letters the keys fold.
	const alphabet = "aAbBiIlL1|0oOrRnNmMvVwW .-_x"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		b := make([]byte, 1+rng.IntN(10))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		add(string(b))
	}
	data, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	testjs.Run(t, time.Minute, "roomnames.test.mjs", "PARLEY_ROOM_KEYS="+file)
}
