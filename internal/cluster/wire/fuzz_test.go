package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// fuzzEntries are the seeds of FuzzDecodeEntry: the golden entries, those
// of the reference's shapes, and every sample message.
func fuzzEntries(f *testing.F) []Entry {
	var seeds []Entry
	for _, tc := range entryGolden {
		seeds = append(seeds, tc.entry)
	}
	for _, m := range sampleMessages() {
		e, err := EncodeEntry(&m)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, e)
	}
	return append(seeds,
		Entry{Type: "3", Data: `{"opts":{"flags":{"timeout":1e400}},"packet":{"type":2,"data":[1e400,-0.0]}}`},
		Entry{Type: "8", Data: `{"requestId":"r","sockets":[{"id":"a"},{}]}`},
		Entry{Type: "10", Data: `{"requestId":"r"}`},
		Entry{Type: "3", Data: "gqZwYWNrZXSCpHR5cGUCpGRhdGGSo2JpbsQDAQIDpG9wdHODpXJvb21zkKZleGNlcHSQpWZsYWdzgA"},
	)
}

// FuzzDecodeEntry checks that DecodeEntry never panics, and that what it
// decodes encodes again, to an entry that decodes and encodes to itself.
func FuzzDecodeEntry(f *testing.F) {
	for _, e := range fuzzEntries(f) {
		f.Add(e.Type, e.Data)
	}
	f.Fuzz(func(t *testing.T, typ, data string) {
		m, err := DecodeEntry(Entry{UID: "u", Nsp: "/", Type: typ, Data: data})
		if err != nil {
			if m != nil {
				t.Fatalf("error %v with message %+v", err, m)
			}
			return
		}
		e1, err := EncodeEntry(m)
		if err != nil {
			t.Fatalf("re-encoding %+v (from %q %q): %v", m, typ, data, err)
		}
		m2, err := DecodeEntry(e1)
		if err != nil {
			t.Fatalf("re-decoding %+v (from %q %q): %v", e1, typ, data, err)
		}
		e2, err := EncodeEntry(m2)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", m2, err)
		}
		if e2 != e1 {
			t.Fatalf("encoding not stable: %+v then %+v", e1, e2)
		}
		// What travels in the stream travels over PUB/SUB as well.
		p, err := EncodePayload(m2)
		if err != nil {
			t.Fatalf("EncodePayload(%+v): %v", m2, err)
		}
		if _, err := DecodePayload(p); err != nil {
			t.Fatalf("DecodePayload(%x): %v", p, err)
		}
	})
}

// FuzzDecodePayload checks that DecodePayload never panics, never modifies
// its input, and that what it decodes encodes to a payload that decodes to
// the same message and encodes to itself.
func FuzzDecodePayload(f *testing.F) {
	for _, tc := range payloadGolden {
		f.Add(mustHex(f, tc.hex))
	}
	for _, m := range sampleMessages() {
		p, err := EncodePayload(&m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		m, err := DecodePayload(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("DecodePayload modified its input")
		}
		if err != nil {
			if m != nil {
				t.Fatalf("error %v with message %+v", err, m)
			}
			return
		}
		p1, err := EncodePayload(m)
		if err != nil {
			t.Fatalf("re-encoding %+v (from %x): %v", m, b, err)
		}
		m2, err := DecodePayload(p1)
		if err != nil {
			t.Fatalf("re-decoding %x (from %x): %v", p1, b, err)
		}
		p2, err := EncodePayload(m2)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", m2, err)
		}
		if !bytes.Equal(p1, p2) {
			t.Fatalf("encoding not stable: %x then %x", p1, p2)
		}
		m3, err := DecodePayload(p2)
		if err != nil || !reflect.DeepEqual(m2, m3) {
			t.Fatalf("decoded %x as %+v, then %+v (%v)", p2, m2, m3, err)
		}
		if _, err := EncodeEntry(m2); err != nil {
			t.Fatalf("EncodeEntry(%+v): %v", m2, err)
		}
	})
}

// FuzzDecodeSession checks that DecodeSession never panics and that what
// it decodes encodes to a session that decodes to the same.
func FuzzDecodeSession(f *testing.F) {
	f.Add("hKNzaWS0WGsydk05cUxwMGFaYkMzZEU0ZkejcGlkonAxpXJvb21zkrRYazJ2TTlxTHAwYVpiQzNkRTRmR6Vyb29tMaRkYXRhgaR1c2VypHpvw6s=")
	f.Add("hKNzaWShc6NwaWShcKVyb29tc5CkZGF0YcA=")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := DecodeSession(text)
		if err != nil {
			return
		}
		t1, err := EncodeSession(s)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", s, err)
		}
		s2, err := DecodeSession(t1)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", t1, err)
		}
		if t2, err := EncodeSession(s2); err != nil || t2 != t1 {
			t.Fatalf("encoding not stable: %q then %q (%v)", t1, t2, err)
		}
	})
}
