package wire

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
)

// Entry is a message as a Redis stream entry: its fields, in the order
// XADD writes them (uid, nsp, type, then data unless Data is empty).
type Entry struct {
	UID  string
	Nsp  string
	Type string
	// Data is the data as JSON, or as base64 of its MessagePack encoding
	// when it holds binary values; empty for the types without data.
	Data string
}

// Fields returns the entry's field names and values, alternating, as
// XADD takes them.
func (e *Entry) Fields() []string {
	f := []string{"uid", e.UID, "nsp", e.Nsp, "type", e.Type}
	if e.Data != "" {
		f = append(f, "data", e.Data)
	}
	return f
}

// EncodeEntry encodes m as a stream entry. Its data is JSON, unless its
// type may hold binary values and it does: then it is base64 of its
// MessagePack encoding, as the reference's decoder expects.
func EncodeEntry(m *Message) (Entry, error) {
	if !m.Type.valid() {
		return Entry{}, fmt.Errorf("encode entry: %w: %d", ErrUnknownType, m.Type)
	}
	e := Entry{UID: m.UID, Nsp: m.Nsp, Type: strconv.Itoa(int(m.Type))}
	if !m.Type.hasData() {
		return e, nil
	}
	if m.Type.mayHoldBinary() && m.binary() {
		var buf bytes.Buffer
		if err := writeData(msgpack.NewEncoder(&buf), m); err != nil {
			return Entry{}, fmt.Errorf("encode entry %v: %w", m.Type, err)
		}
		e.Data = base64.StdEncoding.EncodeToString(buf.Bytes())
		return e, nil
	}
	data, err := appendDataJSON(make([]byte, 0, 128), m)
	if err != nil {
		return Entry{}, fmt.Errorf("encode entry %v: %w", m.Type, err)
	}
	e.Data = string(data)
	return e, nil
}

// DecodeEntry decodes a stream entry. Data that starts with "{" is JSON;
// any other is base64 of MessagePack, as the reference decides.
func DecodeEntry(e Entry) (*Message, error) {
	t, err := parseType(e.Type)
	if err != nil {
		return nil, fmt.Errorf("decode entry: %w", err)
	}
	if e.Nsp == "" {
		return nil, fmt.Errorf("decode entry: %w", ErrNoNamespace)
	}
	m := &Message{UID: e.UID, Nsp: e.Nsp, Type: t}
	if !t.hasData() {
		return m, nil
	}
	if e.Data == "" {
		return nil, fmt.Errorf("decode entry %v: %w: no data", t, ErrMalformed)
	}
	if e.Data[0] == '{' {
		err = decodeDataJSON([]byte(e.Data), m)
	} else {
		var raw []byte
		if raw, err = decodeBase64(e.Data); err == nil {
			err = decodeDataMsgpack(raw, m)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("decode entry %v: %w", t, err)
	}
	return m, nil
}

// decodeBase64 decodes standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrMalformed, err)
	}
	return b, nil
}

// decodeDataMsgpack decodes data that is one MessagePack map.
func decodeDataMsgpack(b []byte, m *Message) error {
	r := newReader(b)
	if err := r.data(m); err != nil {
		return err
	}
	if r.r.Len() != 0 {
		return fmt.Errorf("%w: %d bytes after the data", ErrMalformed, r.r.Len())
	}
	return nil
}

// parseType parses a type in decimal.
func parseType(s string) (Type, error) {
	n, err := strconv.Atoi(s)
	if err != nil || !Type(n).valid() || len(s) > 2 || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("%w: %q", ErrUnknownType, s)
	}
	return Type(n), nil
}
