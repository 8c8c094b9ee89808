package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
)

// adapter is the cluster adapter of one namespace: its local rooms are an
// in-memory adapter's; what it sends goes through its node's publisher, and
// what other nodes send comes from its node's readers (handle.go).
type adapter struct {
	node    *Node
	nsp     *socketio.Namespace
	name    string
	local   socketio.Adapter
	stream  string
	public  string // the namespace's public channel
	private string // this node's private channel in the namespace

	// With connection state recovery on (EnableRecovery, recovery.go),
	// the node's own broadcasts reach its sockets from the stream, and
	// the sessions are kept in Redis for window, refreshed every
	// refresh.
	recovery atomic.Bool
	// fromStream: the node's own broadcasts reach its sockets from the
	// stream (with recovery on, or once UseSequences was called), and
	// filter, if set, sees each broadcast read from it (sequence.go).
	fromStream atomic.Bool
	filter     atomic.Pointer[socketio.DeliveryFilter]
	window     time.Duration
	refresh    time.Duration
	// base is the id of the stream's last entry before those the reader
	// hands the adapter, "" until known; guarded by the node's mu.
	base string
}

var (
	_ socketio.Adapter        = (*adapter)(nil)
	_ socketio.SharedRecovery = (*adapter)(nil)
	_ socketio.Sequencer      = (*adapter)(nil)
)

func (a *adapter) Join(so *socketio.Socket, rooms ...string) {
	a.local.Join(so, rooms...)
	a.touched(so)
}

func (a *adapter) Leave(so *socketio.Socket, room string) {
	a.local.Leave(so, room)
	a.touched(so)
}

func (a *adapter) LeaveAll(so *socketio.Socket) {
	a.local.LeaveAll(so)
	a.touched(so)
}

func (a *adapter) Rooms(so *socketio.Socket) []string { return a.local.Rooms(so) }

func (a *adapter) Sockets(rooms, except []string) []*socketio.Socket {
	return a.local.Sockets(rooms, except)
}

// touched tells the keeper that the rooms of so changed.
func (a *adapter) touched(so *socketio.Socket) {
	if a.recovery.Load() {
		a.node.keeper.touched(so)
	}
}

// selected returns, with recovery on, the local sockets so selected,
// whose rooms an operation is to change: touchedAll tells the keeper
// after.
func (a *adapter) selected(rooms, except []string) []*socketio.Socket {
	if !a.recovery.Load() {
		return nil
	}
	return a.local.Sockets(rooms, except)
}

func (a *adapter) touchedAll(list []*socketio.Socket) {
	for _, so := range list {
		a.node.keeper.touched(so)
	}
}

// publish sends m to the other nodes: in the stream, or on the public
// channel when it is ephemeral. It never blocks.
func (a *adapter) publish(m *wire.Message) error {
	return a.publishJob(m, nil)
}

// publishJob sends m as publish does; a stream entry goes through seq's
// script when seq is set.
func (a *adapter) publishJob(m *wire.Message, seq *seqJob) error {
	m.UID, m.Nsp = a.node.uid, a.name
	if !m.Ephemeral() {
		e, err := wire.EncodeEntry(m)
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		return a.node.pub.push(job{stream: a.stream, fields: e.Fields(), size: len(e.Data), seq: seq})
	}
	return a.publishOn(a.public, m)
}

// respond sends a response to node uid, on its private channel.
func (a *adapter) respond(uid string, m *wire.Message) error {
	m.UID, m.Nsp = a.node.uid, a.name
	return a.publishOn(wire.PrivateChannel(a.node.cfg.ChannelPrefix, a.name, uid), m)
}

func (a *adapter) publishOn(channel string, m *wire.Message) error {
	p, err := wire.EncodePayload(m)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return a.node.pub.push(job{channel: channel, payload: p, size: len(p)})
}

// Broadcast delivers b to the local sockets and, unless b.Local, appends
// it to the stream, in one XADD. With recovery on (or sequences used),
// the local sockets get it when the stream reader reads it back, with its
// entry id for offset (see socketio.SharedRecovery): a broadcast refused
// (ErrBacklog) reaches nobody.
func (a *adapter) Broadcast(b *socketio.Broadcast) error {
	if b.Local {
		return a.local.Broadcast(b)
	}
	if !a.fromStream.Load() {
		_ = a.local.Broadcast(b)
	}
	return a.publish(&wire.Message{
		Type:   wire.TypeBroadcast,
		Packet: wire.Packet{Type: int(sioparser.PacketEvent), Data: wire.Value{JSON: b.Packet.Data, Attachments: b.Packet.Attachments}},
		Opts:   wire.Options{Rooms: b.Rooms, Except: b.Except},
	})
}

// AddSockets makes the sockets so selected join rooms, on every node. With
// recovery on, the node's own sockets join when the stream reader reads the
// operation back, as the other nodes' do: in order with the node's own
// broadcasts, which reach them so (see Broadcast). An operation refused
// (ErrBacklog) then reaches nobody.
func (a *adapter) AddSockets(rooms, except, join []string) error {
	err := a.publish(&wire.Message{Type: wire.TypeSocketsJoin, Opts: wire.Options{Rooms: rooms, Except: except}, Rooms: join})
	if !a.fromStream.Load() {
		_ = a.local.AddSockets(rooms, except, join)
	}
	return err
}

// DelSockets makes the sockets so selected leave rooms, on every node; with
// recovery on, the node's own when the reader reads it back (see
// AddSockets).
func (a *adapter) DelSockets(rooms, except, leave []string) error {
	err := a.publish(&wire.Message{Type: wire.TypeSocketsLeave, Opts: wire.Options{Rooms: rooms, Except: except}, Rooms: leave})
	if !a.fromStream.Load() {
		_ = a.local.DelSockets(rooms, except, leave)
	}
	return err
}

// DisconnectSockets disconnects the sockets so selected, on every node;
// with recovery on, the node's own when the reader reads it back (see
// AddSockets).
func (a *adapter) DisconnectSockets(rooms, except []string, closeConn bool) error {
	err := a.publish(&wire.Message{Type: wire.TypeDisconnectSockets, Opts: wire.Options{Rooms: rooms, Except: except}, Close: closeConn})
	if !a.fromStream.Load() {
		_ = a.local.DisconnectSockets(rooms, except, closeConn)
	}
	return err
}

// FetchSockets asks the other nodes for their sockets and adds them to the
// local ones.
func (a *adapter) FetchSockets(ctx context.Context, rooms, except []string) ([]socketio.RemoteSocket, error) {
	list, _ := a.local.FetchSockets(ctx, rooms, except)
	replies, err := a.ask(ctx, &wire.Message{Type: wire.TypeFetchSockets, Opts: wire.Options{Rooms: rooms, Except: except}})
	for _, r := range replies {
		for i := range r.Sockets {
			list = append(list, remoteOf(&r.Sockets[i]))
		}
	}
	return list, err
}

func (a *adapter) ServerSideEmit(args *sioparser.Message) error {
	return a.publish(&wire.Message{Type: wire.TypeServerSideEmit, Args: valueOfArgs(args)})
}

// ServerSideEmitWithAck gathers one reply per other node, renumbering the
// attachments of binary replies after those before them.
func (a *adapter) ServerSideEmitWithAck(ctx context.Context, args *sioparser.Message) (*sioparser.Message, error) {
	replies, err := a.ask(ctx, &wire.Message{Type: wire.TypeServerSideEmit, Args: valueOfArgs(args)})
	out := &sioparser.Message{Args: make([]json.RawMessage, 0, len(replies))}
	for _, r := range replies {
		v := r.Reply
		if len(v.Attachments) == 0 {
			out.Args = append(out.Args, v.JSON)
			continue
		}
		in := sioparser.Message{Args: []json.RawMessage{v.JSON}, Attachments: v.Attachments}
		val, derr := in.Decode(0)
		if derr != nil {
			continue // the reader's own JSON: cannot happen
		}
		var data []byte
		if data, out.Attachments, derr = sioparser.AppendEventArgs(nil, out.Attachments, val); derr != nil {
			continue
		}
		split, _ := sioparser.SplitArgs(data)
		out.Args = append(out.Args, split...)
	}
	return out, err
}

// ask publishes a request and waits for the answers of the other nodes of
// the namespace, as many as the nodes counted before asking, less those
// that close meanwhile.
func (a *adapter) ask(ctx context.Context, m *wire.Message) ([]*wire.Message, error) {
	count, err := a.node.ServerCount(ctx, a.name)
	if err != nil {
		return nil, err
	}
	if count <= 1 {
		return nil, nil
	}
	return a.node.ask(ctx, a, m, count-1)
}

// valueOfArgs joins the arguments of an event into one JSON array.
func valueOfArgs(m *sioparser.Message) wire.Value {
	n := 2
	for _, a := range m.Args {
		n += len(a) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, a := range m.Args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a...)
	}
	return wire.Value{JSON: append(b, ']'), Attachments: m.Attachments}
}
