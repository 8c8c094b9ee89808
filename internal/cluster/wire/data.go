package wire

import (
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

// JSON decoding, with encoding/json; the values are kept as they came.

type dataJSON struct {
	Packet      json.RawMessage `json:"packet"`
	Opts        *optsJSON       `json:"opts"`
	RequestID   *string         `json:"requestId"`
	Rooms       []string        `json:"rooms"`
	Close       *bool           `json:"close"`
	Sockets     []socketJSON    `json:"sockets"`
	ClientCount *float64        `json:"clientCount"`
}

type optsJSON struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
	Flags  *struct {
		Volatile  *bool    `json:"volatile"`
		Compress  *bool    `json:"compress"`
		Local     *bool    `json:"local"`
		Broadcast *bool    `json:"broadcast"`
		Binary    *bool    `json:"binary"`
		Timeout   *float64 `json:"timeout"`
	} `json:"flags"`
}

type packetJSON struct {
	Type *float64  `json:"type"`
	Data jsonArray `json:"data"`
	Nsp  *string   `json:"nsp"`
	ID   *float64  `json:"id"`
}

type socketJSON struct {
	ID        string          `json:"id"`
	Handshake json.RawMessage `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data"`
}

// jsonArray is a JSON array kept as it came.
type jsonArray json.RawMessage

func (a *jsonArray) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '[' {
		return fmt.Errorf("%w: %.20s where an array is due", ErrMalformed, b)
	}
	*a = append((*a)[:0], b...)
	return nil
}

func decodeDataJSON(b []byte, m *Message) error {
	if err := checkJSON(b); err != nil {
		return err
	}
	var d dataJSON
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("%w: data: %v", ErrMalformed, err)
	}
	if d.RequestID != nil {
		m.RequestID = *d.RequestID
	}
	if d.Opts != nil {
		o := &m.Opts
		o.Rooms, o.Except = d.Opts.Rooms, d.Opts.Except
		if f := d.Opts.Flags; f != nil {
			o.Flags.Volatile = f.Volatile != nil && *f.Volatile
			o.Flags.Compress = f.Compress != nil && *f.Compress
			o.Flags.Local = f.Local != nil && *f.Local
			o.Flags.Broadcast = f.Broadcast != nil && *f.Broadcast
			o.Flags.Binary = f.Binary != nil && *f.Binary
			if f.Timeout != nil {
				o.Flags.Timeout = timeoutOf(*f.Timeout)
			}
		}
	}
	m.Rooms = d.Rooms
	m.Close = d.Close != nil && *d.Close
	if d.ClientCount != nil {
		if *d.ClientCount != math.Trunc(*d.ClientCount) || math.Abs(*d.ClientCount) > 1<<53 {
			return fmt.Errorf("%w: clientCount %v", ErrMalformed, *d.ClientCount)
		}
		m.ClientCount = int64(*d.ClientCount)
	}
	switch m.Type {
	case TypeBroadcast:
		if len(d.Packet) == 0 || d.Packet[0] != '{' {
			return fmt.Errorf("%w: broadcast without packet", ErrMalformed)
		}
		var p packetJSON
		if err := json.Unmarshal(d.Packet, &p); err != nil {
			return fmt.Errorf("%w: packet: %v", ErrMalformed, err)
		}
		if p.Type == nil || *p.Type != math.Trunc(*p.Type) || *p.Type < 0 || *p.Type > 6 || p.Data == nil {
			return fmt.Errorf("%w: packet type or data", ErrMalformed)
		}
		m.Packet.Type, m.Packet.Data.JSON = int(*p.Type), json.RawMessage(p.Data)
		if p.Nsp != nil {
			m.Packet.Nsp = *p.Nsp
		}
		if p.ID != nil {
			if *p.ID != math.Trunc(*p.ID) || *p.ID < 0 || *p.ID > 1<<53 {
				return fmt.Errorf("%w: packet id %v", ErrMalformed, *p.ID)
			}
			m.Packet.ID, m.Packet.HasID = int64(*p.ID), true
		}
	case TypeServerSideEmit:
		if len(d.Packet) == 0 || d.Packet[0] != '[' {
			return fmt.Errorf("%w: server-side emit without packet", ErrMalformed)
		}
		m.Args.JSON = d.Packet
	case TypeServerSideEmitResponse, TypeBroadcastAck:
		m.Reply.JSON = d.Packet
		if len(m.Reply.JSON) == 0 {
			m.Reply.JSON = json.RawMessage("null")
		}
	case TypeFetchSocketsResponse:
		m.Sockets = make([]SocketInfo, len(d.Sockets))
		for i, s := range d.Sockets {
			m.Sockets[i] = SocketInfo{ID: s.ID, Rooms: s.Rooms, Handshake: Value{JSON: s.Handshake}, Data: Value{JSON: s.Data}}
			normalize(&m.Sockets[i])
		}
	}
	return checkData(m, d.Opts != nil, d.RequestID != nil)
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

// packetOf takes the packet of a BROADCAST out of its transcoded value:
// the JSON here is the reader's own, so a packet of the wrong shape is the
// only error.
func packetOf(v Value, p *Packet) error {
	if len(v.JSON) == 0 || v.JSON[0] != '{' {
		return fmt.Errorf("%w: broadcast without packet", ErrMalformed)
	}
	var pj packetJSON
	if err := json.Unmarshal(v.JSON, &pj); err != nil {
		return fmt.Errorf("%w: packet: %v", ErrMalformed, err)
	}
	if pj.Type == nil || *pj.Type != math.Trunc(*pj.Type) || *pj.Type < 0 || *pj.Type > 6 || pj.Data == nil {
		return fmt.Errorf("%w: packet type or data", ErrMalformed)
	}
	p.Type = int(*pj.Type)
	p.Data = Value{JSON: json.RawMessage(pj.Data), Attachments: v.Attachments}
	if pj.Nsp != nil {
		p.Nsp = *pj.Nsp
	}
	if pj.ID != nil {
		if *pj.ID != math.Trunc(*pj.ID) || *pj.ID < 0 || *pj.ID > 1<<53 {
			return fmt.Errorf("%w: packet id %v", ErrMalformed, *pj.ID)
		}
		p.ID, p.HasID = int64(*pj.ID), true
	}
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
