package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
)

// The data object of each message type, in JSON and in MessagePack. Keys
// are written in the order the reference writes them, so that the bytes are
// the same; they are read in any order, and unknown keys are skipped.

// appendDataJSON appends m's data as JSON. Values must hold no binary.
func appendDataJSON(dst []byte, m *Message) ([]byte, error) {
	var err error
	switch m.Type {
	case TypeBroadcast:
		dst = append(dst, `{"packet":`...)
		if dst, err = appendPacketJSON(dst, &m.Packet); err != nil {
			return nil, err
		}
		if m.RequestID != "" {
			dst = appendString(append(dst, `,"requestId":`...), m.RequestID)
		}
		dst = appendOptsJSON(append(dst, `,"opts":`...), &m.Opts)
	case TypeSocketsJoin, TypeSocketsLeave:
		dst = appendOptsJSON(append(dst, `{"opts":`...), &m.Opts)
		dst = appendStrings(append(dst, `,"rooms":`...), m.Rooms)
	case TypeDisconnectSockets:
		dst = appendOptsJSON(append(dst, `{"opts":`...), &m.Opts)
		dst = strconv.AppendBool(append(dst, `,"close":`...), m.Close)
	case TypeFetchSockets:
		dst = appendOptsJSON(append(dst, `{"opts":`...), &m.Opts)
		dst = appendString(append(dst, `,"requestId":`...), m.RequestID)
	case TypeFetchSocketsResponse:
		dst = appendString(append(dst, `{"requestId":`...), m.RequestID)
		dst = append(dst, `,"sockets":[`...)
		for i := range m.Sockets {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendSocketJSON(dst, &m.Sockets[i]); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	case TypeServerSideEmit:
		dst = append(dst, '{')
		if m.RequestID != "" {
			dst = append(appendString(append(dst, `"requestId":`...), m.RequestID), ',')
		}
		if dst, err = appendValueJSON(append(dst, `"packet":`...), &m.Args, "[]"); err != nil {
			return nil, err
		}
	case TypeServerSideEmitResponse, TypeBroadcastAck:
		dst = appendString(append(dst, `{"requestId":`...), m.RequestID)
		if dst, err = appendValueJSON(append(dst, `,"packet":`...), &m.Reply, "null"); err != nil {
			return nil, err
		}
	case TypeBroadcastClientCount:
		dst = appendString(append(dst, `{"requestId":`...), m.RequestID)
		dst = strconv.AppendInt(append(dst, `,"clientCount":`...), m.ClientCount, 10)
	default:
		return nil, fmt.Errorf("%w: %d has no data", ErrUnknownType, m.Type)
	}
	return append(dst, '}'), nil
}

// appendValueJSON appends v's JSON, or empty when v is empty.
func appendValueJSON(dst []byte, v *Value, empty string) ([]byte, error) {
	if len(v.JSON) == 0 {
		return append(dst, empty...), nil
	}
	if v.binary() {
		return nil, fmt.Errorf("%w: binary value in JSON", ErrMalformed)
	}
	return append(dst, v.JSON...), nil
}

func appendPacketJSON(dst []byte, p *Packet) ([]byte, error) {
	dst = strconv.AppendInt(append(dst, `{"type":`...), int64(p.Type), 10)
	dst, err := appendValueJSON(append(dst, `,"data":`...), &p.Data, "[]")
	if err != nil {
		return nil, err
	}
	if p.Nsp != "" {
		dst = appendString(append(dst, `,"nsp":`...), p.Nsp)
	}
	if p.HasID {
		dst = strconv.AppendInt(append(dst, `,"id":`...), p.ID, 10)
	}
	return append(dst, '}'), nil
}

func appendOptsJSON(dst []byte, o *Options) []byte {
	dst = appendStrings(append(dst, `{"rooms":`...), nonNil(o.Rooms))
	dst = appendStrings(append(dst, `,"except":`...), nonNil(o.Except))
	dst = append(dst, `,"flags":{`...)
	first := true
	flag := func(name string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(append(append(dst, '"'), name...), `":`...)
	}
	for _, f := range []struct {
		name string
		on   bool
	}{{"volatile", o.Flags.Volatile}, {"compress", o.Flags.Compress}, {"local", o.Flags.Local},
		{"broadcast", o.Flags.Broadcast}, {"binary", o.Flags.Binary}} {
		if f.on {
			flag(f.name)
			dst = append(dst, "true"...)
		}
	}
	if o.Flags.Timeout > 0 {
		flag("timeout")
		dst = strconv.AppendInt(dst, o.Flags.Timeout, 10)
	}
	return append(dst, "}}"...)
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func appendSocketJSON(dst []byte, s *SocketInfo) ([]byte, error) {
	dst = appendString(append(dst, `{"id":`...), s.ID)
	dst, err := appendValueJSON(append(dst, `,"handshake":`...), &s.Handshake, "{}")
	if err != nil {
		return nil, err
	}
	dst = appendStrings(append(dst, `,"rooms":`...), nonNil(s.Rooms))
	if dst, err = appendValueJSON(append(dst, `,"data":`...), &s.Data, "null"); err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// JSON decoding, with the scanner of json.go: one pass, keys matched
// exactly as JavaScript does, values kept as they came (aliasing b).

func decodeDataJSON(b []byte, m *Message) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fmt.Errorf("%w: data is not an object", ErrMalformed)
	}
	hasOpts, hasRequestID := false, false
	var packet []byte
	end, err := members(b, i, func(k, v int) (end int, err error) {
		switch keyOf(b, k) {
		case "packet":
			if end, err = skipValue(b, v, 1); err == nil {
				packet = b[v:end:end]
			}
		case "opts":
			hasOpts = true
			end, err = jsonOpts(b, v, &m.Opts)
		case "requestId":
			var ok bool
			if m.RequestID, ok, end, err = jsonString(b, v); ok {
				hasRequestID = true
			}
		case "rooms":
			m.Rooms, end, err = jsonStrings(b, v)
		case "close":
			m.Close, end, err = jsonBool(b, v)
		case "sockets":
			m.Sockets, end, err = jsonSockets(b, v)
		case "clientCount":
			var f float64
			var ok bool
			if f, ok, end, err = jsonNumber(b, v); err == nil && ok {
				if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
					return 0, fmt.Errorf("%w: clientCount %v", ErrMalformed, f)
				}
				m.ClientCount = int64(f)
			}
		default:
			end, err = skipValue(b, v, 1)
		}
		return end, err
	})
	if err != nil {
		return err
	}
	if skipWS(b, end) != len(b) {
		return errJSON(end)
	}
	switch m.Type {
	case TypeBroadcast:
		if err := jsonPacket(packet, &m.Packet); err != nil {
			return err
		}
	case TypeServerSideEmit:
		if len(packet) == 0 || packet[0] != '[' {
			return fmt.Errorf("%w: server-side emit without packet", ErrMalformed)
		}
		m.Args.JSON = packet
	case TypeServerSideEmitResponse, TypeBroadcastAck:
		m.Reply.JSON = packet
		if len(m.Reply.JSON) == 0 {
			m.Reply.JSON = json.RawMessage("null")
		}
	}
	return checkData(m, hasOpts, hasRequestID)
}

// keyOf returns the key of the member at b[k], a valid JSON string.
func keyOf(b []byte, k int) string {
	end, _ := skipString(b, k)
	q := b[k:end]
	if bytes.IndexByte(q, '\\') >= 0 {
		s, _ := unquote(q)
		return s
	}
	return string(q[1 : len(q)-1])
}

// isNull reports whether the value at b[v] is null.
func isNull(b []byte, v int) bool { return len(b)-v >= 4 && string(b[v:v+4]) == "null" }

// jsonString reads a string, or null (ok false).
func jsonString(b []byte, v int) (s string, ok bool, end int, err error) {
	if isNull(b, v) {
		return "", false, v + 4, nil
	}
	if v >= len(b) || b[v] != '"' {
		return "", false, 0, fmt.Errorf("%w: a string is due at offset %d", ErrMalformed, v)
	}
	if end, err = skipString(b, v); err != nil {
		return "", false, 0, err
	}
	s, err = unquote(b[v:end])
	return s, err == nil, end, err
}

// jsonStrings reads an array of strings, or null.
func jsonStrings(b []byte, v int) ([]string, int, error) {
	if isNull(b, v) {
		return nil, v + 4, nil
	}
	if v >= len(b) || b[v] != '[' {
		return nil, 0, fmt.Errorf("%w: an array is due at offset %d", ErrMalformed, v)
	}
	list := []string{}
	end, err := elements(b, v, func(i int) (int, error) {
		s, ok, end, err := jsonString(b, i)
		if err == nil && !ok {
			err = fmt.Errorf("%w: null in a list of strings", ErrMalformed)
		}
		list = append(list, s)
		return end, err
	})
	return list, end, err
}

// jsonBool reads a boolean; null reads as false.
func jsonBool(b []byte, v int) (bool, int, error) {
	switch {
	case isNull(b, v):
		return false, v + 4, nil
	case len(b)-v >= 4 && string(b[v:v+4]) == "true":
		return true, v + 4, nil
	case len(b)-v >= 5 && string(b[v:v+5]) == "false":
		return false, v + 5, nil
	}
	return false, 0, fmt.Errorf("%w: a boolean is due at offset %d", ErrMalformed, v)
}

// jsonNumber reads a number, or null (ok false).
func jsonNumber(b []byte, v int) (f float64, ok bool, end int, err error) {
	if isNull(b, v) {
		return 0, false, v + 4, nil
	}
	if v >= len(b) || b[v] != '-' && !isDigit(b[v]) {
		return 0, false, 0, fmt.Errorf("%w: a number is due at offset %d", ErrMalformed, v)
	}
	if end, err = skipNumber(b, v); err != nil {
		return 0, false, 0, err
	}
	f, perr := strconv.ParseFloat(string(b[v:end]), 64)
	if perr != nil && !isRangeErr(perr) {
		return 0, false, 0, fmt.Errorf("%w: number %s", ErrMalformed, b[v:end])
	}
	return f, true, end, nil
}

// jsonObject checks that an object is due at b[v].
func jsonObject(b []byte, v int, what string) error {
	if v >= len(b) || b[v] != '{' {
		return fmt.Errorf("%w: %s is not an object", ErrMalformed, what)
	}
	return nil
}

func jsonOpts(b []byte, v int, o *Options) (int, error) {
	if err := jsonObject(b, v, "opts"); err != nil {
		return 0, err
	}
	return members(b, v, func(k, v int) (end int, err error) {
		switch keyOf(b, k) {
		case "rooms":
			o.Rooms, end, err = jsonStrings(b, v)
		case "except":
			o.Except, end, err = jsonStrings(b, v)
		case "flags":
			if isNull(b, v) {
				return v + 4, nil
			}
			if err := jsonObject(b, v, "flags"); err != nil {
				return 0, err
			}
			end, err = jsonFlags(b, v, &o.Flags)
		default:
			end, err = skipValue(b, v, 1)
		}
		return end, err
	})
}

func jsonFlags(b []byte, v int, f *Flags) (int, error) {
	return members(b, v, func(k, v int) (end int, err error) {
		switch keyOf(b, k) {
		case "volatile":
			f.Volatile, end, err = jsonBool(b, v)
		case "compress":
			f.Compress, end, err = jsonBool(b, v)
		case "local":
			f.Local, end, err = jsonBool(b, v)
		case "broadcast":
			f.Broadcast, end, err = jsonBool(b, v)
		case "binary":
			f.Binary, end, err = jsonBool(b, v)
		case "timeout":
			var t float64
			var ok bool
			if t, ok, end, err = jsonNumber(b, v); ok {
				f.Timeout = timeoutOf(t)
			}
		default:
			end, err = skipValue(b, v, 1)
		}
		return end, err
	})
}

// jsonPacket reads the packet of a BROADCAST.
func jsonPacket(b []byte, p *Packet) error {
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("%w: broadcast without packet", ErrMalformed)
	}
	hasType := false
	_, err := members(b, 0, func(k, v int) (end int, err error) {
		switch keyOf(b, k) {
		case "type":
			var f float64
			if f, hasType, end, err = jsonNumber(b, v); err == nil && hasType {
				if f != math.Trunc(f) || f < 0 || f > 6 {
					return 0, fmt.Errorf("%w: packet type %v", ErrMalformed, f)
				}
				p.Type = int(f)
			}
		case "data":
			if v >= len(b) || b[v] != '[' {
				return 0, fmt.Errorf("%w: packet data is not an array", ErrMalformed)
			}
			if end, err = skipValue(b, v, 1); err == nil {
				p.Data.JSON = json.RawMessage(b[v:end:end])
			}
		case "nsp":
			p.Nsp, _, end, err = jsonString(b, v)
		case "id":
			var f float64
			var ok bool
			if f, ok, end, err = jsonNumber(b, v); err == nil && ok {
				if f != math.Trunc(f) || f < 0 || f > 1<<53 {
					return 0, fmt.Errorf("%w: packet id %v", ErrMalformed, f)
				}
				p.ID, p.HasID = int64(f), true
			}
		default:
			end, err = skipValue(b, v, 1)
		}
		return end, err
	})
	if err != nil {
		return err
	}
	if !hasType || p.Data.JSON == nil {
		return fmt.Errorf("%w: packet without type or data", ErrMalformed)
	}
	return nil
}

func jsonSockets(b []byte, v int) ([]SocketInfo, int, error) {
	if v >= len(b) || b[v] != '[' {
		return nil, 0, fmt.Errorf("%w: sockets is not an array", ErrMalformed)
	}
	list := []SocketInfo{}
	end, err := elements(b, v, func(i int) (int, error) {
		if err := jsonObject(b, i, "socket"); err != nil {
			return 0, err
		}
		var s SocketInfo
		end, err := members(b, i, func(k, v int) (end int, err error) {
			switch keyOf(b, k) {
			case "id":
				s.ID, _, end, err = jsonString(b, v)
			case "handshake":
				if end, err = skipValue(b, v, 1); err == nil {
					s.Handshake.JSON = json.RawMessage(b[v:end:end])
				}
			case "rooms":
				s.Rooms, end, err = jsonStrings(b, v)
			case "data":
				if end, err = skipValue(b, v, 1); err == nil {
					s.Data.JSON = json.RawMessage(b[v:end:end])
				}
			default:
				end, err = skipValue(b, v, 1)
			}
			return end, err
		})
		normalize(&s)
		list = append(list, s)
		return end, err
	})
	return list, end, err
}

// normalize gives absent values of a socket their defaults.
func normalize(s *SocketInfo) {
	if len(s.Handshake.JSON) == 0 {
		s.Handshake.JSON = json.RawMessage("{}")
	}
	if len(s.Data.JSON) == 0 {
		s.Data.JSON = json.RawMessage("null")
	}
}

// timeoutOf turns a timeout in milliseconds into a whole count of them.
func timeoutOf(f float64) int64 {
	if f <= 0 || math.IsNaN(f) {
		return 0
	}
	if f > 1<<53 {
		return 1 << 53
	}
	return int64(math.Ceil(f))
}

// checkData checks that data holds what its type requires.
func checkData(m *Message, hasOpts, hasRequestID bool) error {
	switch m.Type {
	case TypeBroadcast, TypeSocketsJoin, TypeSocketsLeave, TypeDisconnectSockets:
		if !hasOpts {
			return fmt.Errorf("%w: %v without opts", ErrMalformed, m.Type)
		}
	case TypeFetchSockets:
		if !hasOpts || m.RequestID == "" {
			return fmt.Errorf("%w: %v without opts or requestId", ErrMalformed, m.Type)
		}
	case TypeFetchSocketsResponse, TypeServerSideEmitResponse, TypeBroadcastClientCount, TypeBroadcastAck:
		if m.RequestID == "" {
			return fmt.Errorf("%w: %v without requestId", ErrMalformed, m.Type)
		}
	}
	if hasRequestID && m.RequestID == "" {
		return fmt.Errorf("%w: empty requestId", ErrMalformed)
	}
	return nil
}

// MessagePack encoding.

func writeData(e *msgpack.Encoder, m *Message) error {
	w := mapWriter{e: e}
	switch m.Type {
	case TypeBroadcast:
		w.begin(2 + boolInt(m.RequestID != ""))
		w.key("packet")
		w.packet(&m.Packet)
		if m.RequestID != "" {
			w.key("requestId")
			w.str(m.RequestID)
		}
		w.key("opts")
		w.opts(&m.Opts)
	case TypeSocketsJoin, TypeSocketsLeave:
		w.begin(2)
		w.key("opts")
		w.opts(&m.Opts)
		w.key("rooms")
		w.strs(m.Rooms)
	case TypeDisconnectSockets:
		w.begin(2)
		w.key("opts")
		w.opts(&m.Opts)
		w.key("close")
		w.do(e.EncodeBool(m.Close))
	case TypeFetchSockets:
		w.begin(2)
		w.key("opts")
		w.opts(&m.Opts)
		w.key("requestId")
		w.str(m.RequestID)
	case TypeFetchSocketsResponse:
		w.begin(2)
		w.key("requestId")
		w.str(m.RequestID)
		w.key("sockets")
		w.do(e.EncodeArrayLen(len(m.Sockets)))
		for i := range m.Sockets {
			s := &m.Sockets[i]
			w.begin(4)
			w.key("id")
			w.str(s.ID)
			w.key("handshake")
			w.value(&s.Handshake)
			w.key("rooms")
			w.strs(s.Rooms)
			w.key("data")
			w.value(&s.Data)
		}
	case TypeServerSideEmit:
		w.begin(1 + boolInt(m.RequestID != ""))
		if m.RequestID != "" {
			w.key("requestId")
			w.str(m.RequestID)
		}
		w.key("packet")
		if len(m.Args.JSON) == 0 {
			w.do(e.EncodeArrayLen(0))
		} else {
			w.value(&m.Args)
		}
	case TypeServerSideEmitResponse, TypeBroadcastAck:
		w.begin(2)
		w.key("requestId")
		w.str(m.RequestID)
		w.key("packet")
		w.value(&m.Reply)
	case TypeBroadcastClientCount:
		w.begin(2)
		w.key("requestId")
		w.str(m.RequestID)
		w.key("clientCount")
		w.do(e.EncodeInt(m.ClientCount))
	default:
		return fmt.Errorf("%w: %d has no data", ErrUnknownType, m.Type)
	}
	return w.err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mapWriter writes maps, keeping the first error.
type mapWriter struct {
	e   *msgpack.Encoder
	err error
}

func (w *mapWriter) do(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *mapWriter) begin(n int)        { w.do(w.e.EncodeMapLen(n)) }
func (w *mapWriter) key(k string)       { w.do(w.e.EncodeString(k)) }
func (w *mapWriter) str(s string)       { w.do(w.e.EncodeString(s)) }
func (w *mapWriter) strs(list []string) { w.do(writeStrings(w.e, nonNil(list))) }
func (w *mapWriter) value(v *Value)     { w.do(writeValue(w.e, v)) }
func (w *mapWriter) boolean(k string, on bool) {
	if on {
		w.key(k)
		w.do(w.e.EncodeBool(true))
	}
}

func (w *mapWriter) packet(p *Packet) {
	w.begin(2 + boolInt(p.Nsp != "") + boolInt(p.HasID))
	w.key("type")
	w.do(w.e.EncodeInt(int64(p.Type)))
	w.key("data")
	if len(p.Data.JSON) == 0 {
		w.do(w.e.EncodeArrayLen(0))
	} else {
		w.value(&p.Data)
	}
	if p.Nsp != "" {
		w.key("nsp")
		w.str(p.Nsp)
	}
	if p.HasID {
		w.key("id")
		w.do(w.e.EncodeInt(p.ID))
	}
}

func (w *mapWriter) opts(o *Options) {
	w.begin(3)
	w.key("rooms")
	w.strs(o.Rooms)
	w.key("except")
	w.strs(o.Except)
	w.key("flags")
	f := &o.Flags
	w.begin(boolInt(f.Volatile) + boolInt(f.Compress) + boolInt(f.Local) + boolInt(f.Broadcast) + boolInt(f.Binary) + boolInt(f.Timeout > 0))
	w.boolean("volatile", f.Volatile)
	w.boolean("compress", f.Compress)
	w.boolean("local", f.Local)
	w.boolean("broadcast", f.Broadcast)
	w.boolean("binary", f.Binary)
	if f.Timeout > 0 {
		w.key("timeout")
		w.do(w.e.EncodeInt(f.Timeout))
	}
}

// MessagePack decoding.

func (r *reader) data(m *Message) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	hasOpts, hasRequestID := false, false
	var packet Value
	for range n {
		k, err := r.string()
		if err != nil {
			return err
		}
		switch k {
		case "packet":
			err = r.value(&packet, 1)
		case "opts":
			hasOpts = true
			err = r.opts(&m.Opts)
		case "requestId":
			hasRequestID = true
			m.RequestID, err = r.string()
		case "rooms":
			m.Rooms, err = r.strings()
		case "close":
			m.Close, err = r.boolean()
		case "sockets":
			m.Sockets, err = r.sockets()
		case "clientCount":
			m.ClientCount, err = r.integer()
		default:
			err = r.skip()
		}
		if err != nil {
			return fmt.Errorf("data %q: %w", k, err)
		}
	}
	switch m.Type {
	case TypeBroadcast:
		if err := packetOf(packet, &m.Packet); err != nil {
			return err
		}
	case TypeServerSideEmit:
		if len(packet.JSON) == 0 || packet.JSON[0] != '[' {
			return fmt.Errorf("%w: server-side emit without packet", ErrMalformed)
		}
		m.Args = packet
	case TypeServerSideEmitResponse, TypeBroadcastAck:
		m.Reply = packet
		if len(m.Reply.JSON) == 0 {
			m.Reply.JSON = json.RawMessage("null")
		}
	}
	return checkData(m, hasOpts, hasRequestID)
}

// packetOf takes the packet of a BROADCAST out of its transcoded value,
// whose placeholders index v's attachments.
func packetOf(v Value, p *Packet) error {
	if err := jsonPacket(v.JSON, p); err != nil {
		return err
	}
	p.Data.Attachments = v.Attachments
	return nil
}

func (r *reader) opts(o *Options) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	for range n {
		k, err := r.string()
		if err != nil {
			return err
		}
		switch k {
		case "rooms":
			o.Rooms, err = r.strings()
		case "except":
			o.Except, err = r.strings()
		case "flags":
			err = r.flags(&o.Flags)
		default:
			err = r.skip()
		}
		if err != nil {
			return fmt.Errorf("opts %q: %w", k, err)
		}
	}
	return nil
}

func (r *reader) flags(f *Flags) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	for range n {
		k, err := r.string()
		if err != nil {
			return err
		}
		switch k {
		case "volatile":
			f.Volatile, err = r.boolean()
		case "compress":
			f.Compress, err = r.boolean()
		case "local":
			f.Local, err = r.boolean()
		case "broadcast":
			f.Broadcast, err = r.boolean()
		case "binary":
			f.Binary, err = r.boolean()
		case "timeout":
			var t float64
			t, err = r.number()
			f.Timeout = timeoutOf(t)
		default:
			err = r.skip()
		}
		if err != nil {
			return fmt.Errorf("flag %q: %w", k, err)
		}
	}
	return nil
}

func (r *reader) sockets() ([]SocketInfo, error) {
	n, err := r.arrayLen()
	if err != nil {
		return nil, err
	}
	list := make([]SocketInfo, n)
	for i := range list {
		s := &list[i]
		fields, err := r.mapLen()
		if err != nil {
			return nil, err
		}
		for range fields {
			k, err := r.string()
			if err != nil {
				return nil, err
			}
			switch k {
			case "id":
				s.ID, err = r.string()
			case "handshake":
				err = r.value(&s.Handshake, 1)
			case "rooms":
				s.Rooms, err = r.strings()
			case "data":
				err = r.value(&s.Data, 1)
			default:
				err = r.skip()
			}
			if err != nil {
				return nil, fmt.Errorf("socket %d %q: %w", i, k, err)
			}
		}
		normalize(s)
	}
	return list, nil
}
