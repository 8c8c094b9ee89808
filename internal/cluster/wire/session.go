package wire

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Session is a socket's session as kept for connection state recovery,
// under SessionKey: base64 of the MessagePack map {sid, pid, rooms, data},
// as the reference's persistSession writes it.
type Session struct {
	SID, PID string
	// Rooms are the socket's rooms, its own included.
	Rooms []string
	// Data is what the application attached to the socket.
	Data Value
}

// EncodeSession encodes s as the value of its key.
func EncodeSession(s *Session) (string, error) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	w := mapWriter{e: e}
	w.begin(4)
	w.key("sid")
	w.str(s.SID)
	w.key("pid")
	w.str(s.PID)
	w.key("rooms")
	w.strs(s.Rooms)
	w.key("data")
	w.value(&s.Data)
	if w.err != nil {
		return "", fmt.Errorf("encode session: %w", w.err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeSession decodes the value of a session's key.
func DecodeSession(text string) (*Session, error) {
	s, err := decodeSession(text)
	if err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	return s, nil
}

func decodeSession(text string) (*Session, error) {
	b, err := decodeBase64(text)
	if err != nil {
		return nil, err
	}
	r := newReader(b)
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	s := &Session{}
	for range n {
		k, err := r.string()
		if err != nil {
			return nil, err
		}
		switch k {
		case "sid":
			s.SID, err = r.string()
		case "pid":
			s.PID, err = r.string()
		case "rooms":
			s.Rooms, err = r.strings()
		case "data":
			err = r.value(&s.Data, 1)
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
	}
	if r.r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the session", ErrMalformed, r.r.Len())
	}
	if s.SID == "" || s.PID == "" {
		return nil, fmt.Errorf("%w: session without sid or pid", ErrMalformed)
	}
	if len(s.Data.JSON) == 0 {
		s.Data.JSON = []byte("null")
	}
	return s, nil
}
