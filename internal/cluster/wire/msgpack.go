package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The MessagePack side: a reader that checks every declared length against
// the bytes left before it reads or allocates, and the transcoding of
// Values between JSON with placeholders and MessagePack with binary
// strings. Numbers, strings, arrays and maps are written in their shortest
// forms, as @msgpack/msgpack writes them, so that what parley encodes is
// byte for byte what a Node.js node would encode.

// timestampExt is MessagePack's timestamp extension type, which
// @msgpack/msgpack writes for a Date.
const timestampExt = -1

// reader decodes MessagePack from a byte slice.
type reader struct {
	r *bytes.Reader
	d *msgpack.Decoder
}

func newReader(b []byte) *reader {
	r := bytes.NewReader(b)
	// A *bytes.Reader is an io.ByteScanner: the decoder reads it directly,
	// without buffering, so r.Len() is what is left.
	return &reader{r: r, d: msgpack.NewDecoder(r)}
}

func errMsgpack(what string, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: MessagePack %s: %v", ErrMalformed, what, err)
}

func (r *reader) peek() (byte, error) {
	c, err := r.d.PeekCode()
	if err != nil {
		return 0, errMsgpack("value", err)
	}
	return c, nil
}

// fixedLen returns the declared length of a string, binary or extension
// body, after checking that the input holds that many bytes.
func (r *reader) checkLen(n int, what string) error {
	if n < 0 || n > r.r.Len() {
		return fmt.Errorf("%w: MessagePack %s of %d bytes with %d left", ErrMalformed, what, n, r.r.Len())
	}
	return nil
}

// raw reads the body of a string or binary whose header is next.
func (r *reader) raw(what string) ([]byte, error) {
	n, err := r.d.DecodeBytesLen()
	if err != nil {
		return nil, errMsgpack(what, err)
	}
	if n == -1 {
		return nil, fmt.Errorf("%w: MessagePack nil for %s", ErrMalformed, what)
	}
	if err := r.checkLen(n, what); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, errMsgpack(what, err)
	}
	return b, nil
}

// string reads a string.
func (r *reader) string() (string, error) {
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	if !msgpcode.IsString(c) {
		return "", fmt.Errorf("%w: MessagePack code %#x where a string is due", ErrMalformed, c)
	}
	b, err := r.raw("string")
	return string(b), err
}

// arrayLen reads an array header; each element takes a byte at least.
func (r *reader) arrayLen() (int, error) {
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		return 0, fmt.Errorf("%w: MessagePack code %#x where an array is due", ErrMalformed, c)
	}
	n, err := r.d.DecodeArrayLen()
	if err != nil {
		return 0, errMsgpack("array", err)
	}
	return n, r.checkLen(n, "array")
}

// mapLen reads a map header; each entry takes two bytes at least.
func (r *reader) mapLen() (int, error) {
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return 0, fmt.Errorf("%w: MessagePack code %#x where a map is due", ErrMalformed, c)
	}
	n, err := r.d.DecodeMapLen()
	if err != nil {
		return 0, errMsgpack("map", err)
	}
	if n > r.r.Len()/2 {
		return 0, fmt.Errorf("%w: MessagePack map of %d entries with %d bytes left", ErrMalformed, n, r.r.Len())
	}
	return n, nil
}

// strings reads an array of strings.
func (r *reader) strings() ([]string, error) {
	n, err := r.arrayLen()
	if err != nil {
		return nil, err
	}
	list := make([]string, n)
	for i := range list {
		if list[i], err = r.string(); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// isInt reports whether c starts an integer.
func isInt(c byte) bool {
	return msgpcode.IsFixedNum(c) || c >= msgpcode.Uint8 && c <= msgpcode.Int64
}

// number reads any number as a float64, as JavaScript would.
func (r *reader) number() (float64, error) {
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	switch {
	case c == msgpcode.Uint64:
		u, err := r.d.DecodeUint64()
		if err != nil {
			return 0, errMsgpack("number", err)
		}
		return float64(u), nil
	case isInt(c):
		n, err := r.d.DecodeInt64()
		if err != nil {
			return 0, errMsgpack("number", err)
		}
		return float64(n), nil
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := r.d.DecodeFloat64()
		if err != nil {
			return 0, errMsgpack("number", err)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%w: MessagePack code %#x where a number is due", ErrMalformed, c)
}

// integer reads a number that must be a whole one.
func (r *reader) integer() (int64, error) {
	f, err := r.number()
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%w: %v is no integer", ErrMalformed, f)
	}
	return int64(f), nil
}

// boolean reads a boolean; nil reads as false, as undefined is in
// JavaScript.
func (r *reader) boolean() (bool, error) {
	c, err := r.peek()
	if err != nil {
		return false, err
	}
	switch c {
	case msgpcode.Nil:
		return false, r.nil()
	case msgpcode.True, msgpcode.False:
		b, err := r.d.DecodeBool()
		if err != nil {
			return false, errMsgpack("boolean", err)
		}
		return b, nil
	}
	return false, fmt.Errorf("%w: MessagePack code %#x where a boolean is due", ErrMalformed, c)
}

func (r *reader) nil() error {
	if err := r.d.DecodeNil(); err != nil {
		return errMsgpack("nil", err)
	}
	return nil
}

// skip reads a value and drops it.
func (r *reader) skip() error {
	var v Value
	return r.value(&v, 0)
}

// value reads any value into v: JSON with a placeholder for each binary,
// appended to v.Attachments.
func (r *reader) value(v *Value, depth int) error {
	var err error
	v.JSON, err = r.appendJSON(v.JSON[:0], v, depth)
	return err
}

func (r *reader) appendJSON(dst []byte, v *Value, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, ErrTooDeep
	}
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case c == msgpcode.Nil:
		return append(dst, "null"...), r.nil()
	case c == msgpcode.True || c == msgpcode.False:
		b, err := r.boolean()
		return strconv.AppendBool(dst, b), err
	case c == msgpcode.Uint64:
		u, err := r.d.DecodeUint64()
		if err != nil {
			return nil, errMsgpack("number", err)
		}
		return strconv.AppendUint(dst, u, 10), nil
	case isInt(c):
		n, err := r.d.DecodeInt64()
		if err != nil {
			return nil, errMsgpack("number", err)
		}
		return strconv.AppendInt(dst, n, 10), nil
	case c == msgpcode.Float:
		f, err := r.d.DecodeFloat32()
		if err != nil {
			return nil, errMsgpack("number", err)
		}
		return appendFloat(dst, float64(f), 32), nil
	case c == msgpcode.Double:
		f, err := r.d.DecodeFloat64()
		if err != nil {
			return nil, errMsgpack("number", err)
		}
		return appendFloat(dst, f, 64), nil
	case msgpcode.IsString(c):
		b, err := r.raw("string")
		if err != nil {
			return nil, err
		}
		return appendString(dst, string(b)), nil
	case msgpcode.IsBin(c):
		b, err := r.raw("binary")
		if err != nil {
			return nil, err
		}
		dst = appendPlaceholder(dst, len(v.Attachments))
		v.Attachments = append(v.Attachments, b)
		return dst, nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := r.arrayLen()
		if err != nil {
			return nil, err
		}
		dst = append(dst, '[')
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = r.appendJSON(dst, v, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := r.mapLen()
		if err != nil {
			return nil, err
		}
		dst = append(dst, '{')
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = r.appendKey(dst); err != nil {
				return nil, err
			}
			dst = append(dst, ':')
			if dst, err = r.appendJSON(dst, v, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case msgpcode.IsExt(c):
		return r.appendExt(dst)
	}
	return nil, fmt.Errorf("%w: MessagePack code %#x", ErrMalformed, c)
}

// appendKey appends a map key as a JSON string: a string, or a number, as
// @msgpack/msgpack allows and JavaScript turns into a string.
func (r *reader) appendKey(dst []byte) ([]byte, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if msgpcode.IsString(c) {
		s, err := r.string()
		return appendString(dst, s), err
	}
	if isInt(c) || c == msgpcode.Float || c == msgpcode.Double {
		f, err := r.number()
		if err != nil {
			return nil, err
		}
		dst = append(dst, '"')
		dst = appendFloat(dst, f, 64)
		return append(dst, '"'), nil
	}
	return nil, fmt.Errorf("%w: MessagePack map key of code %#x", ErrMalformed, c)
}

// appendExt appends a timestamp as the JSON string a Date becomes in
// JavaScript; other extensions are refused.
func (r *reader) appendExt(dst []byte) ([]byte, error) {
	id, n, err := r.d.DecodeExtHeader()
	if err != nil {
		return nil, errMsgpack("extension", err)
	}
	if err := r.checkLen(n, "extension"); err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.r, body); err != nil {
		return nil, errMsgpack("extension", err)
	}
	if id != timestampExt {
		return nil, fmt.Errorf("%w: MessagePack extension type %d", ErrMalformed, id)
	}
	var sec int64
	var nsec uint32
	switch n {
	case 4:
		sec = int64(binary.BigEndian.Uint32(body))
	case 8:
		d := binary.BigEndian.Uint64(body)
		nsec, sec = uint32(d>>34), int64(d&(1<<34-1))
	case 12:
		nsec, sec = binary.BigEndian.Uint32(body), int64(binary.BigEndian.Uint64(body[4:]))
	default:
		return nil, fmt.Errorf("%w: timestamp of %d bytes", ErrMalformed, n)
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if nsec >= 1e9 || t.Year() < 0 || t.Year() > 9999 {
		return nil, fmt.Errorf("%w: timestamp out of range", ErrMalformed)
	}
	return t.AppendFormat(append(dst, '"'), "2006-01-02T15:04:05.000Z\""), nil
}

// appendPlaceholder appends the placeholder of attachment num.
func appendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}

// writeValue writes v as MessagePack, its placeholders as binary strings.
// An empty Value is written as nil.
func writeValue(e *msgpack.Encoder, v *Value) error {
	if len(v.JSON) == 0 {
		return e.EncodeNil()
	}
	t := transcoder{b: v.JSON, atts: v.Attachments, e: e}
	i := skipWS(v.JSON, 0)
	end, err := t.value(i, 0)
	if err != nil {
		return err
	}
	if skipWS(v.JSON, end) != len(v.JSON) {
		return errJSON(end)
	}
	return nil
}

// transcoder writes JSON as MessagePack.
type transcoder struct {
	b    []byte
	atts [][]byte
	e    *msgpack.Encoder
}

// value writes the JSON value at b[i] and returns its end.
func (t *transcoder) value(i, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, ErrTooDeep
	}
	if i >= len(t.b) {
		return 0, errJSON(i)
	}
	b := t.b
	switch c := b[i]; {
	case c == '"':
		end, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		s, err := unquote(b[i:end])
		if err != nil {
			return 0, err
		}
		return end, t.e.EncodeString(s)
	case c == '[':
		n := 0
		_, err := elements(b, i, func(j int) (int, error) { n++; return skipValue(b, j, depth+1) })
		if err != nil {
			return 0, err
		}
		if err := t.e.EncodeArrayLen(n); err != nil {
			return 0, err
		}
		return elements(b, i, func(j int) (int, error) { return t.value(j, depth+1) })
	case c == '{':
		if len(t.atts) > 0 {
			if num, end, ok, err := t.placeholder(i); err != nil || ok {
				if err != nil {
					return 0, err
				}
				a := t.atts[num]
				if err := t.e.EncodeBytesLen(len(a)); err != nil {
					return 0, err
				}
				_, err := t.e.Writer().Write(a)
				return end, err
			}
		}
		n := 0
		if _, err := members(b, i, func(_, v int) (int, error) { n++; return skipValue(b, v, depth+1) }); err != nil {
			return 0, err
		}
		if err := t.e.EncodeMapLen(n); err != nil {
			return 0, err
		}
		return members(b, i, func(k, v int) (int, error) {
			kend, _ := skipString(b, k)
			key, err := unquote(b[k:kend])
			if err != nil {
				return 0, err
			}
			if err := t.e.EncodeString(key); err != nil {
				return 0, err
			}
			return t.value(v, depth+1)
		})
	case c == 't':
		end, err := skipLiteral(b, i, "true")
		if err != nil {
			return 0, err
		}
		return end, t.e.EncodeBool(true)
	case c == 'f':
		end, err := skipLiteral(b, i, "false")
		if err != nil {
			return 0, err
		}
		return end, t.e.EncodeBool(false)
	case c == 'n':
		end, err := skipLiteral(b, i, "null")
		if err != nil {
			return 0, err
		}
		return end, t.e.EncodeNil()
	default:
		end, err := skipNumber(b, i)
		if err != nil {
			return 0, err
		}
		return end, writeNumber(t.e, b[i:end])
	}
}

// placeholder reports whether the object at b[i] is a placeholder
// {"_placeholder":true,"num":N}, keys in either order, and returns N and
// the object's end. One whose N is not an attachment's index is an error.
func (t *transcoder) placeholder(i int) (num, end int, ok bool, err error) {
	b := t.b
	count, isTrue, numAt := 0, false, -1
	end, err = members(b, i, func(k, v int) (int, error) {
		count++
		kend, err := skipString(b, k)
		if err != nil {
			return 0, err
		}
		vend, err := skipValue(b, v, 1)
		if err != nil {
			return 0, err
		}
		switch string(b[k:kend]) {
		case `"_placeholder"`:
			isTrue = string(b[v:vend]) == "true"
		case `"num"`:
			numAt = v
		}
		return vend, nil
	})
	if err != nil || count != 2 || !isTrue || numAt < 0 {
		return 0, 0, false, err
	}
	nend, _ := skipNumber(b, numAt)
	n, perr := strconv.Atoi(string(b[numAt:nend]))
	if perr != nil || n < 0 || n >= len(t.atts) {
		return 0, 0, false, fmt.Errorf("%w: placeholder %s for %d attachments", ErrMalformed, b[numAt:nend], len(t.atts))
	}
	return n, end, true, nil
}

// writeNumber writes a JSON number as @msgpack/msgpack writes the
// JavaScript number it parses as: an integer in the shortest form when it
// is one, else a float64. Integers too large for JavaScript but within 64
// bits stay exact.
func writeNumber(e *msgpack.Encoder, tok []byte) error {
	s := string(tok)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return e.EncodeInt(n)
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return e.EncodeUint(u)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return fmt.Errorf("%w: number %s", ErrMalformed, tok)
	}
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return e.EncodeInt(int64(f))
	}
	return e.EncodeFloat64(f)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// writeStrings writes an array of strings.
func writeStrings(e *msgpack.Encoder, list []string) error {
	if err := e.EncodeArrayLen(len(list)); err != nil {
		return err
	}
	for _, s := range list {
		if err := e.EncodeString(s); err != nil {
			return err
		}
	}
	return nil
}
