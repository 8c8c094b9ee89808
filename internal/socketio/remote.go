package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/sioparser"
)

// What spans the nodes of a cluster: the sockets of other nodes, as
// FetchSockets describes them, and the events nodes send each other
// (ServerSideEmit). With the in-memory adapter there are no other nodes.

// errUnbound: a RemoteSocket that no namespace returned.
var errUnbound = errors.New("socketio: remote socket of no namespace")

// RemoteSocket describes a socket of this node or another, as
// FetchSockets returns it; its methods act on the socket wherever it is.
type RemoteSocket struct {
	ID string
	// Rooms are the socket's rooms, its own included.
	Rooms []string
	// Handshake is what the client sent when it connected; that of another
	// node's socket has what the wire carries of it.
	Handshake Handshake
	// Data is what the application attached (Socket.SetData) as JSON, null
	// if nothing.
	Data json.RawMessage

	nsp *Namespace
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	if r.nsp == nil {
		return errUnbound
	}
	return r.nsp.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) error {
	if r.nsp == nil {
		return errUnbound
	}
	return r.nsp.To(r.ID).SocketsJoin(rooms...)
}

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) error {
	if r.nsp == nil {
		return errUnbound
	}
	return r.nsp.To(r.ID).SocketsLeave(rooms...)
}

// Disconnect disconnects the socket; with closeConn, its connection is
// closed too.
func (r *RemoteSocket) Disconnect(closeConn bool) error {
	if r.nsp == nil {
		return errUnbound
	}
	return r.nsp.To(r.ID).DisconnectSockets(closeConn)
}

// Describe returns what FetchSockets tells of the socket. Its Data is the
// JSON encoding of what SetData attached, null if that fails.
func (so *Socket) Describe() RemoteSocket {
	data, err := json.Marshal(so.Data())
	if err != nil {
		data = json.RawMessage("null")
	}
	return RemoteSocket{ID: so.id, Rooms: so.Rooms(), Handshake: so.handshake, Data: data, nsp: so.nsp}
}

// ServerSideHandler handles an event that another node of the cluster sent
// with ServerSideEmit. args are the event's arguments, its name aside. When
// the sender waits for replies, ack is not nil: the handler calls it once,
// with its reply, encoded as an event argument is. It runs on the
// adapter's goroutine, which it holds up: it must not block, nor wait for
// another node.
type ServerSideHandler func(args *sioparser.Message, ack func(reply any) error)

// OnServerSideEmit sets the handler of a server-side event, replacing any
// earlier one.
func (n *Namespace) OnServerSideEmit(event string, h ServerSideHandler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.serverSide == nil {
		n.serverSide = make(map[string]ServerSideHandler)
	}
	n.serverSide[event] = h
}

// ServerSideEmit sends an event to the other nodes of the cluster, whose
// handlers (OnServerSideEmit) get it; this node's do not.
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	msg, err := serverSideArgs(event, args)
	if err != nil {
		return err
	}
	return n.adapter.ServerSideEmit(msg)
}

// ServerSideEmitWithAck sends an event to the other nodes of the cluster
// and returns their replies, one argument per node that answered. When
// some node does not answer by the end of ctx or the adapter's own
// timeout, it returns the replies it has with an error.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) (*sioparser.Message, error) {
	msg, err := serverSideArgs(event, args)
	if err != nil {
		return nil, err
	}
	return n.adapter.ServerSideEmitWithAck(ctx, msg)
}

// serverSideArgs encodes a server-side event: its name, then its arguments.
func serverSideArgs(event string, args []any) (*sioparser.Message, error) {
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	data, atts, err := sioparser.AppendEventArgs(nil, nil, all...)
	if err != nil {
		return nil, fmt.Errorf("socketio: encoding server-side %q: %w", event, err)
	}
	split, err := sioparser.SplitArgs(data)
	if err != nil {
		return nil, fmt.Errorf("socketio: encoding server-side %q: %w", event, err)
	}
	return &sioparser.Message{Args: split, Attachments: atts}, nil
}

// HandleServerSideEmit calls the handler of a server-side event that
// another node sent: args holds its name, then its arguments. A cluster
// adapter calls it. When that node waits for a reply, ack is not nil and
// gets the handler's reply, once: one JSON value and the attachments its
// placeholders refer to. It reports whether a handler ran.
func (n *Namespace) HandleServerSideEmit(args *sioparser.Message, ack func(reply json.RawMessage, attachments [][]byte)) bool {
	if len(args.Args) == 0 {
		return false
	}
	var event string
	if json.Unmarshal(args.Args[0], &event) != nil {
		return false
	}
	n.mu.RLock()
	h := n.serverSide[event]
	n.mu.RUnlock()
	if h == nil {
		return false
	}
	rest := &sioparser.Message{Args: args.Args[1:], Attachments: args.Attachments}
	if ack == nil {
		h(rest, nil)
		return true
	}
	var once sync.Once
	h(rest, func(reply any) error {
		err := ErrAcked
		once.Do(func() {
			var data []byte
			var atts [][]byte
			if data, atts, err = sioparser.AppendEventArgs(nil, nil, reply); err != nil {
				return
			}
			var split []json.RawMessage
			if split, err = sioparser.SplitArgs(data); err != nil {
				return
			}
			ack(split[0], atts)
		})
		return err
	})
	return true
}
