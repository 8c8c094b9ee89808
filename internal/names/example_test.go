package names_test

import (
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/names"
)

func ExampleNormalize() {
	for _, typed := range []string{"  Ａｌｉｃｅ ", "Mallory\u202e", "\u3164", "Alice\u200b", "Alexandria Ocasio"} {
		name, err := names.Normalize(typed, 12)
		if r, ok := errors.AsType[*names.Refusal](err); ok {
			fmt.Printf("%+q: refused: %s\n", typed, r.Text())
			continue
		}
		fmt.Printf("%+q: %q\n", typed, name)
	}
	// Output:
	// "  \uff21\uff4c\uff49\uff43\uff45 ": "Alice"
	// "Mallory\u202e": refused: name contains a text-direction control
	// "\u3164": refused: name has no visible character
	// "Alice\u200b": refused: name contains an invisible character
	// "Alexandria Ocasio": refused: name is too long
}

func ExampleKey() {
	alice := names.Key("Alice")
	for _, n := range []string{"ALICE", "Аlice", "𝐀lice", "AIice", "A1ice", "Alicia"} {
		fmt.Printf("%+q: %v\n", n, names.Key(n) == alice)
	}
	// Output:
	// "ALICE": true
	// "\u0410lice": true
	// "\U0001d400lice": true
	// "AIice": true
	// "A1ice": true
	// "Alicia": false
}

// Room names are compared by Key too: one room, whatever the case, shown as
// it was first spelt.
func ExampleKey_rooms() {
	rooms := make(map[string]string) // key -> name as created
	for _, typed := range []string{"General", "general", "GENERAL", "generaӏ", "Random"} {
		name, err := names.Normalize(typed, 32)
		if err != nil {
			continue
		}
		k := names.Key(name)
		if first, ok := rooms[k]; ok {
			fmt.Printf("%+q joins %q\n", typed, first)
			continue
		}
		rooms[k] = name
		fmt.Printf("%+q creates %q\n", typed, name)
	}
	// Output:
	// "General" creates "General"
	// "general" joins "General"
	// "GENERAL" joins "General"
	// "genera\u04cf" joins "General"
	// "Random" creates "Random"
}

func ExampleReserved() {
	reserved := names.NewReserved("You", "System")
	for _, n := range []string{"You", "YOU", "Yоu", "Yours"} {
		fmt.Printf("%+q: %v\n", n, reserved.Contains(n))
	}
	// Output:
	// "You": true
	// "YOU": true
	// "Y\u043eu": true
	// "Yours": false
}
