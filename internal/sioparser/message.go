package sioparser

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Message is the arguments of an event or an acknowledgement. Its methods
// only read it: a received Message is safe for concurrent use.
type Message struct {
	// Args are the arguments, as sent; binary ones are placeholders.
	Args []json.RawMessage
	// Attachments are the binary arguments the placeholders refer to.
	Attachments [][]byte
}

// Len returns the number of arguments.
func (m *Message) Len() int { return len(m.Args) }

// Bind decodes argument i into v. A binary argument decodes into a *[]byte.
func (m *Message) Bind(i int, v any) error {
	if i < 0 || i >= len(m.Args) {
		return fmt.Errorf("%w: no argument %d", ErrArgument, i)
	}
	if b, ok := ResolvePlaceholder(m.Args[i], m.Attachments); ok {
		if dst, ok := v.(*[]byte); ok {
			*dst = b
			return nil
		}
		return fmt.Errorf("%w: argument %d is binary", ErrArgument, i)
	}
	if err := json.Unmarshal(m.Args[i], v); err != nil {
		return fmt.Errorf("%w: argument %d: %v", ErrArgument, i, err)
	}
	return nil
}

// Decode returns argument i as plain Go values, as encoding/json decodes
// into an any, with two differences: numbers are json.Numbers, so that none
// loses precision, and binary arguments, at any depth, are []byte.
func (m *Message) Decode(i int) (any, error) {
	if i < 0 || i >= len(m.Args) {
		return nil, fmt.Errorf("%w: no argument %d", ErrArgument, i)
	}
	dec := json.NewDecoder(bytes.NewReader(m.Args[i]))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: argument %d: %v", ErrArgument, i, err)
	}
	return m.resolve(v), nil
}

// resolve replaces the binary placeholders in v by their attachments.
func (m *Message) resolve(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 2 && v["_placeholder"] == true {
			if n, ok := v["num"].(json.Number); ok {
				if i, err := n.Int64(); err == nil && i >= 0 && i < int64(len(m.Attachments)) {
					return m.Attachments[i]
				}
			}
		}
		for k, e := range v {
			v[k] = m.resolve(e)
		}
	case []any:
		for k, e := range v {
			v[k] = m.resolve(e)
		}
	}
	return v
}

// String returns argument i when it is a JSON string.
func (m *Message) String(i int) (string, bool) {
	if i < 0 || i >= len(m.Args) {
		return "", false
	}
	var s string
	a := m.Args[i]
	if len(a) == 0 || a[0] != '"' || json.Unmarshal(a, &s) != nil {
		return "", false
	}
	return s, true
}
