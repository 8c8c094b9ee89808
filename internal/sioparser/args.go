package sioparser

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// maxArgDepth bounds how deep AppendEventArgs descends into []any and
// map[string]any, so that a self-referencing value fails instead of
// recursing forever.
const maxArgDepth = 1000

// SplitArgs splits a JSON array, such as the Data of an EVENT or ACK packet,
// into its elements without decoding them. The elements alias data and keep
// their bytes exactly as sent, without surrounding whitespace. It returns an
// error wrapping ErrInvalidEventArgs when data is not one valid JSON array.
func SplitArgs(data json.RawMessage) ([]json.RawMessage, error) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, fmt.Errorf("split args: not an array: %w", ErrInvalidEventArgs)
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		if skipWS(data, i+1) != len(data) {
			return nil, fmt.Errorf("split args: data after array: %w", ErrInvalidEventArgs)
		}
		return []json.RawMessage{}, nil
	}
	args := make([]json.RawMessage, 0, 4)
	for {
		start := i
		end, ok := scanValue(data, i, 1)
		if !ok {
			return nil, fmt.Errorf("split args: element %d not valid JSON: %w", len(args), ErrInvalidEventArgs)
		}
		args = append(args, data[start:end:end])
		i = skipWS(data, end)
		if i >= len(data) {
			return nil, fmt.Errorf("split args: unterminated array: %w", ErrInvalidEventArgs)
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
			continue
		case ']':
			if skipWS(data, i+1) != len(data) {
				return nil, fmt.Errorf("split args: data after array: %w", ErrInvalidEventArgs)
			}
			return args, nil
		}
		return nil, fmt.Errorf("split args: bad separator after element %d: %w", len(args)-1, ErrInvalidEventArgs)
	}
}

// EventName splits the Data of an EVENT or BINARY_EVENT packet into the
// event name and the remaining arguments, which alias data as SplitArgs
// describes. It returns an error wrapping ErrInvalidEventArgs when data is
// not a JSON array whose first element is a string.
func EventName(data json.RawMessage) (string, []json.RawMessage, error) {
	args, err := SplitArgs(data)
	if err != nil {
		return "", nil, err
	}
	if len(args) == 0 {
		return "", nil, fmt.Errorf("event name: empty array: %w", ErrInvalidEventArgs)
	}
	name, ok := unquote(args[0])
	if !ok {
		return "", nil, fmt.Errorf("event name: first element not a string: %w", ErrInvalidEventArgs)
	}
	return name, args[1:], nil
}

// ResolvePlaceholder returns attachments[N] when raw is exactly a binary
// placeholder, {"_placeholder":true,"num":N}, with its two members in either
// order, any JSON whitespace, and N written as digits below
// len(attachments). It reports false for anything else, including objects
// with further members.
func ResolvePlaceholder(raw json.RawMessage, attachments [][]byte) ([]byte, bool) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i++
	var sawFlag, sawNum bool
	var num int
	for k := range 2 {
		i = skipWS(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return nil, false
		}
		end, ok := scanString(raw, i)
		if !ok {
			return nil, false
		}
		key := raw[i:end]
		i = skipWS(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		i = skipWS(raw, i+1)
		if end, ok = scanValue(raw, i, 1); !ok {
			return nil, false
		}
		val := raw[i:end]
		switch {
		case !sawFlag && keyIs(key, "_placeholder"):
			if string(val) != "true" {
				return nil, false
			}
			sawFlag = true
		case !sawNum && keyIs(key, "num"):
			if num, ok = placeholderIndex(val, len(attachments)); !ok {
				return nil, false
			}
			sawNum = true
		default:
			return nil, false
		}
		i = skipWS(raw, end)
		if sep := ",}"[k]; i >= len(raw) || raw[i] != sep {
			return nil, false
		}
		i++
	}
	if skipWS(raw, i) != len(raw) {
		return nil, false
	}
	return attachments[num], true
}

// AppendEventArgs appends args to dst as a JSON array, the Data of an EVENT
// or ACK packet, and returns the extended buffer and attachments. (An event's
// name is its first argument.)
//
// Each []byte becomes the binary placeholder {"_placeholder":true,"num":N}
// and is appended to attachments, N being its index there; this happens at
// any depth inside []any, map[string]any and [][]byte values, which
// AppendEventArgs walks itself (map keys sorted, as encoding/json does).
// Inside any other type, such as a struct, a []byte is encoded by
// encoding/json as base64. A caller that gets attachments back must send a
// BINARY_EVENT or BINARY_ACK.
//
// A json.RawMessage is written verbatim after checking that it is valid JSON
// (an empty one is written as null). Strings, booleans, integers, floats and
// nil are written without reflection; anything else goes through
// encoding/json with HTML escaping off, so "<b>" stays "<b>".
//
// On error AppendEventArgs returns dst and attachments as they were passed,
// with an error wrapping ErrInvalidArgJSON or the encoding/json error.
func AppendEventArgs(dst []byte, attachments [][]byte, args ...any) ([]byte, [][]byte, error) {
	dst0, att0 := len(dst), len(attachments)
	dst = append(dst, '[')
	for k, a := range args {
		if k > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, attachments, err = appendArg(dst, attachments, a, 0); err != nil {
			return dst[:dst0], attachments[:att0], fmt.Errorf("encode event argument %d: %w", k, err)
		}
	}
	return append(dst, ']'), attachments, nil
}

func appendArg(dst []byte, att [][]byte, v any, depth int) ([]byte, [][]byte, error) {
	if depth > maxArgDepth {
		return dst, att, fmt.Errorf("nested deeper than %d: %w", maxArgDepth, ErrInvalidArgJSON)
	}
	var ok bool
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), att, nil
	case string:
		return appendString(dst, v), att, nil
	case json.RawMessage:
		if len(v) == 0 {
			return append(dst, "null"...), att, nil
		}
		if !validJSON(v) {
			return dst, att, fmt.Errorf("json.RawMessage: %w", ErrInvalidArgJSON)
		}
		return append(dst, v...), att, nil
	case []byte:
		return appendPlaceholder(dst, len(att)), append(att, v), nil
	case bool:
		return strconv.AppendBool(dst, v), att, nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), att, nil
	case int64:
		return strconv.AppendInt(dst, v, 10), att, nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), att, nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), att, nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), att, nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), att, nil
	case float64:
		if dst, ok = appendFloat(dst, v, 64); !ok {
			return dst, att, fmt.Errorf("unsupported value %v: %w", v, ErrInvalidArgJSON)
		}
		return dst, att, nil
	case float32:
		if dst, ok = appendFloat(dst, float64(v), 32); !ok {
			return dst, att, fmt.Errorf("unsupported value %v: %w", v, ErrInvalidArgJSON)
		}
		return dst, att, nil
	case []any:
		if v == nil {
			return append(dst, "null"...), att, nil
		}
		dst = append(dst, '[')
		for k, e := range v {
			if k > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, att, err = appendArg(dst, att, e, depth+1); err != nil {
				return dst, att, err
			}
		}
		return append(dst, ']'), att, nil
	case [][]byte:
		if v == nil {
			return append(dst, "null"...), att, nil
		}
		dst = append(dst, '[')
		for k, e := range v {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = appendPlaceholder(dst, len(att))
			att = append(att, e)
		}
		return append(dst, ']'), att, nil
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), att, nil
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for n, k := range keys {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, att, err = appendArg(dst, att, v[k], depth+1); err != nil {
				return dst, att, err
			}
		}
		return append(dst, '}'), att, nil
	}
	return appendMarshal(dst, att, v)
}

func appendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}

// appendWriter is an io.Writer appending to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// marshaler is a json.Encoder, HTML escaping off, writing to w.
type marshaler struct {
	w   appendWriter
	enc *json.Encoder
}

var marshalers = sync.Pool{New: func() any {
	m := new(marshaler)
	m.enc = json.NewEncoder(&m.w)
	m.enc.SetEscapeHTML(false)
	return m
}}

// appendMarshal appends the encoding/json encoding of v to dst.
func appendMarshal(dst []byte, att [][]byte, v any) ([]byte, [][]byte, error) {
	m := marshalers.Get().(*marshaler)
	m.w.b = dst
	err := m.enc.Encode(v) // writes nothing on error
	dst = m.w.b
	m.w.b = nil
	marshalers.Put(m)
	if err != nil {
		return dst, att, fmt.Errorf("%w: %w", ErrInvalidArgJSON, err)
	}
	return dst[:len(dst)-1], att, nil // drop Encode's newline
}
