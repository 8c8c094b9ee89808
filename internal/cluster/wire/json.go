package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// MaxDepth bounds how deep values nest, in JSON and MessagePack alike, so
// that a hostile message cannot exhaust the stack.
const MaxDepth = 500

// A small strict JSON scanner: the transcoder to MessagePack needs the
// element count of each array and object before writing it, and the keys in
// the order they come, which encoding/json does not give.

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the end of the JSON value at b[i], which starts at a
// non-space byte.
func skipValue(b []byte, i, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, ErrTooDeep
	}
	if i >= len(b) {
		return 0, errJSON(i)
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '[':
		return skipArray(b, i, depth)
	case c == '{':
		return skipObject(b, i, depth)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return skipNumber(b, i)
	}
	return 0, errJSON(i)
}

func errJSON(i int) error { return fmt.Errorf("%w: invalid JSON at offset %d", ErrMalformed, i) }

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errJSON(i)
	}
	return i + len(lit), nil
}

// skipString returns the end of the string at b[i]; it checks escapes but
// not UTF-8, as a peer's encoder may pass bytes through.
func skipString(b []byte, i int) (int, error) {
	start := i
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return 0, errJSON(i)
		case c == '\\':
			i++
			if i >= len(b) {
				return 0, errJSON(start)
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return 0, errJSON(i)
				}
				i += 4
			default:
				return 0, errJSON(i)
			}
		}
	}
	return 0, errJSON(start)
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, errJSON(start)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, errJSON(start)
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, errJSON(start)
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

// elements calls f for each element of the array at b[i] (f returns the
// element's end) and returns the array's end.
func elements(b []byte, i int, f func(i int) (int, error)) (int, error) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := f(i)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return 0, errJSON(i)
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, errJSON(i)
		}
	}
}

// members calls f for each member of the object at b[i], with the offsets
// of its key and value (f returns the value's end), and returns the
// object's end.
func members(b []byte, i int, f func(key, val int) (int, error)) (int, error) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errJSON(i)
		}
		kend, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		j := skipWS(b, kend)
		if j >= len(b) || b[j] != ':' {
			return 0, errJSON(j)
		}
		end, err := f(i, skipWS(b, j+1))
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return 0, errJSON(i)
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, errJSON(i)
		}
	}
}

func skipArray(b []byte, i, depth int) (int, error) {
	return elements(b, i, func(i int) (int, error) { return skipValue(b, i, depth+1) })
}

func skipObject(b []byte, i, depth int) (int, error) {
	return members(b, i, func(_, v int) (int, error) { return skipValue(b, v, depth+1) })
}

// unquote returns the string of the JSON string token q.
func unquote(q []byte) (string, error) {
	for _, c := range q[1 : len(q)-1] {
		if c == '\\' {
			var s string
			if err := json.Unmarshal(q, &s); err != nil {
				return "", fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			return s, nil
		}
	}
	return string(q[1 : len(q)-1]), nil
}

// appendString appends s as a JSON string, as JSON.stringify writes it:
// quotes, backslashes and control characters escaped, nothing else; bytes
// that are not UTF-8 become U+FFFD, as a JavaScript decoder reads them.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendStrings appends a JSON array of strings.
func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendFloat appends f as JSON.stringify writes a number: null for NaN and
// the infinities, exponent notation only for very large and small values.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0') // -0 too, as in JavaScript
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 becomes 1e-7, as in JavaScript.
		if m := len(dst) - n; m >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}
