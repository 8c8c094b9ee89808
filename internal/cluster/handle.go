package cluster

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
)

// What other nodes send, by type. Each handler runs on the goroutine that
// read the message: a stream reader or the PUB/SUB receiver.
var handlers = map[wire.Type]func(a *adapter, m *wire.Message){
	wire.TypeInitialHeartbeat:       (*adapter).onInitialHeartbeat,
	wire.TypeHeartbeat:              func(*adapter, *wire.Message) {},
	wire.TypeBroadcast:              nil, // with its offset: see handle
	wire.TypeSocketsJoin:            (*adapter).onSocketsJoin,
	wire.TypeSocketsLeave:           (*adapter).onSocketsLeave,
	wire.TypeDisconnectSockets:      (*adapter).onDisconnectSockets,
	wire.TypeFetchSockets:           (*adapter).onFetchSockets,
	wire.TypeFetchSocketsResponse:   (*adapter).onResponse,
	wire.TypeServerSideEmit:         (*adapter).onServerSideEmit,
	wire.TypeServerSideEmitResponse: (*adapter).onResponse,
	wire.TypeBroadcastClientCount:   (*adapter).onResponse,
	wire.TypeBroadcastAck:           (*adapter).onResponse,
	wire.TypeAdapterClose:           (*adapter).onAdapterClose,
}

// handle hands a message of another node to its handler. offset is the
// stream entry's id, empty for a PUB/SUB message.
func (nd *Node) handle(a *adapter, m *wire.Message, offset string) {
	if m.UID != nd.uid {
		nd.heard(m.UID)
	}
	if m.Type == wire.TypeBroadcast {
		a.onBroadcast(m, offset)
		return
	}
	if h := handlers[m.Type]; h != nil {
		h(a, m)
	}
}

// onInitialHeartbeat answers a node that starts, so that it hears of this
// one at once.
func (a *adapter) onInitialHeartbeat(*wire.Message) {
	_ = a.publish(&wire.Message{Type: wire.TypeHeartbeat})
}

func (a *adapter) onAdapterClose(m *wire.Message) { a.node.gone(m.UID) }

// onBroadcast delivers another node's broadcast to the local sockets, as
// an event broadcast here would go, or, with recovery on, any node's, with
// its stream entry's id for offset.
func (a *adapter) onBroadcast(m *wire.Message, offset string) {
	data := m.Packet.Data
	if m.Packet.Type != int(sioparser.PacketEvent) {
		a.node.log.Debug("cluster: ignoring a broadcast of a packet other than an event", logKeyNsp, a.name, logKeyType, m.Packet.Type)
		return
	}
	event, args, err := sioparser.EventName(data.JSON)
	if err != nil {
		a.node.log.Debug("cluster: ignoring an invalid broadcast", logKeyNsp, a.name, logKeyError, err)
		return
	}
	if m.RequestID != "" {
		a.onBroadcastWithAck(m, event, args)
		return
	}
	p := &sioparser.Packet{Type: sioparser.PacketEvent, Namespace: a.name, Data: data.JSON, Attachments: data.Attachments}
	if len(data.Attachments) > 0 {
		p.Type = sioparser.PacketBinaryEvent
	}
	b := &socketio.Broadcast{Packet: p, Rooms: m.Opts.Rooms, Except: m.Opts.Except}
	if a.recovery.Load() {
		b.Offset = offset
	}
	if f := a.filter.Load(); f != nil {
		(*f)(event, args, m.Opts.Rooms, func(t *socketio.Tracker) {
			b.Tracker = t
			_ = a.nsp.Deliver(b)
		})
		return
	}
	_ = a.nsp.Deliver(b)
}

// onBroadcastWithAck sends another node's broadcast to each local socket
// with an acknowledgement id, tells that node how many sockets got it
// (BROADCAST_CLIENT_COUNT), and hands it each socket's acknowledgement, the
// first argument (BROADCAST_ACK), as the reference does. Such broadcasts
// are not kept for recovery.
func (a *adapter) onBroadcastWithAck(m *wire.Message, event string, args []json.RawMessage) {
	timeout := time.Duration(m.Opts.Flags.Timeout) * time.Millisecond
	onAck := func(reply *sioparser.Message, err error) {
		if err != nil {
			return // timed out or gone: the sender times out too
		}
		v := wire.Value{JSON: json.RawMessage("null")}
		if len(reply.Args) > 0 {
			v = wire.Value{JSON: reply.Args[0], Attachments: reply.Attachments}
		}
		a.respondOrLog(m.UID, &wire.Message{Type: wire.TypeBroadcastAck, RequestID: m.RequestID, Reply: v})
	}
	count := 0
	for _, so := range a.local.Sockets(m.Opts.Rooms, m.Opts.Except) {
		if so.EmitRawWithAck(event, timeout, onAck, args, m.Packet.Data.Attachments) == nil {
			count++
		}
	}
	a.respondOrLog(m.UID, &wire.Message{Type: wire.TypeBroadcastClientCount, RequestID: m.RequestID, ClientCount: int64(count)})
}

func (a *adapter) onSocketsJoin(m *wire.Message) {
	sel := a.selected(m.Opts.Rooms, m.Opts.Except)
	_ = a.local.AddSockets(m.Opts.Rooms, m.Opts.Except, m.Rooms)
	a.touchedAll(sel)
}

func (a *adapter) onSocketsLeave(m *wire.Message) {
	sel := a.selected(m.Opts.Rooms, m.Opts.Except)
	_ = a.local.DelSockets(m.Opts.Rooms, m.Opts.Except, m.Rooms)
	a.touchedAll(sel)
}

func (a *adapter) onDisconnectSockets(m *wire.Message) {
	if m.UID == a.node.uid && slices.Contains(m.Opts.Except, movedRoom) {
		return // this node's own restore: its old socket is gone already
	}
	_ = a.local.DisconnectSockets(m.Opts.Rooms, m.Opts.Except, m.Close)
}

// onFetchSockets answers with the local sockets that match.
func (a *adapter) onFetchSockets(m *wire.Message) {
	sockets := a.local.Sockets(m.Opts.Rooms, m.Opts.Except)
	list := make([]wire.SocketInfo, len(sockets))
	for i, so := range sockets {
		list[i] = infoOf(so)
	}
	a.respondOrLog(m.UID, &wire.Message{Type: wire.TypeFetchSocketsResponse, RequestID: m.RequestID, Sockets: list})
}

// onServerSideEmit hands an event to the namespace's handler, with a way
// to reply when the sender waits for one.
func (a *adapter) onServerSideEmit(m *wire.Message) {
	args, err := sioparser.SplitArgs(m.Args.JSON)
	if err != nil {
		return
	}
	var ack func(json.RawMessage, [][]byte)
	if m.RequestID != "" {
		ack = func(reply json.RawMessage, atts [][]byte) {
			a.respondOrLog(m.UID, &wire.Message{Type: wire.TypeServerSideEmitResponse, RequestID: m.RequestID,
				Reply: wire.Value{JSON: reply, Attachments: atts}})
		}
	}
	a.nsp.HandleServerSideEmit(&sioparser.Message{Args: args, Attachments: m.Args.Attachments}, ack)
}

func (a *adapter) respondOrLog(uid string, m *wire.Message) {
	if err := a.respond(uid, m); err != nil {
		a.node.log.Warn("cluster: cannot answer a request", logKeyNsp, a.name, logKeyType, m.Type.String(), logKeyError, err)
	}
}

func (a *adapter) onResponse(m *wire.Message) { a.node.onResponse(m) }
