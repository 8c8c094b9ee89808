package names_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/names"
)

// benchNames are names as people type them, by kind.
var benchNames = []struct {
	kind, name string
}{
	{"ascii", "Alice Smith"},
	{"latin-accents", "Zoë Nguyễn"},
	{"cyrillic", "Наталья"},
	{"cjk", "山田太郎"},
	{"arabic", "علی رضا"},
	{"emoji", "👩🏽\u200d💻 Ada"},
	{"full-width", "Ａｌｉｃｅ"},
}

func BenchmarkNormalize(b *testing.B) {
	for _, bn := range benchNames {
		b.Run(bn.kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := names.Normalize(bn.name, 32); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKey(b *testing.B) {
	for _, bn := range benchNames {
		s, err := names.Normalize(bn.name, 32)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bn.kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if names.Key(s) == "" {
					b.Fatal("empty key")
				}
			}
		})
	}
}

func BenchmarkReserved(b *testing.B) {
	r := names.NewReserved("You", "System", "Server", "parley")
	b.ReportAllocs()
	for b.Loop() {
		if r.Contains("Alice") {
			b.Fatal("Alice is reserved")
		}
	}
}
