package wire

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// EncodePayload encodes m as a PUB/SUB payload: the MessagePack map of the
// whole message, keys in the reference's order (type, data, uid, nsp).
func EncodePayload(m *Message) ([]byte, error) {
	if !m.Type.valid() {
		return nil, fmt.Errorf("encode payload: %w: %d", ErrUnknownType, m.Type)
	}
	var buf bytes.Buffer
	buf.Grow(128)
	e := msgpack.NewEncoder(&buf)
	w := mapWriter{e: e}
	w.begin(3 + boolInt(m.Type.hasData()))
	w.key("type")
	w.do(e.EncodeInt(int64(m.Type)))
	if m.Type.hasData() {
		w.key("data")
		w.do(writeData(e, m))
	}
	w.key("uid")
	w.str(m.UID)
	w.key("nsp")
	w.str(m.Nsp)
	if w.err != nil {
		return nil, fmt.Errorf("encode payload %v: %w", m.Type, w.err)
	}
	return buf.Bytes(), nil
}

// DecodePayload decodes a PUB/SUB payload.
func DecodePayload(b []byte) (*Message, error) {
	m, err := decodePayload(b)
	if err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	return m, nil
}

func decodePayload(b []byte) (*Message, error) {
	r := newReader(b)
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	m := &Message{}
	var data []byte // the data's MessagePack, decoded once the type is known
	hasType := false
	for range n {
		k, err := r.string()
		if err != nil {
			return nil, err
		}
		switch k {
		case "type":
			var t int64
			if t, err = r.integer(); err == nil {
				if m.Type = Type(t); !m.Type.valid() || int64(m.Type) != t {
					return nil, fmt.Errorf("%w: %d", ErrUnknownType, t)
				}
				hasType = true
			}
		case "uid":
			m.UID, err = r.string()
		case "nsp":
			m.Nsp, err = r.string()
		case "data":
			start := len(b) - r.r.Len()
			if err = r.skip(); err == nil {
				data = b[start : len(b)-r.r.Len()]
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
	}
	if r.r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the message", ErrMalformed, r.r.Len())
	}
	if !hasType {
		return nil, fmt.Errorf("%w: no type", ErrUnknownType)
	}
	if m.Nsp == "" {
		return nil, ErrNoNamespace
	}
	if m.Type.hasData() {
		if data == nil {
			return nil, fmt.Errorf("%w: %v without data", ErrMalformed, m.Type)
		}
		if err := decodeDataMsgpack(data, m); err != nil {
			return nil, fmt.Errorf("%v: %w", m.Type, err)
		}
	}
	return m, nil
}
