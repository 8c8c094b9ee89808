package admin

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/socketio"
)

// The UI's commands, as the reference handles them on Socket.IO v4: each
// acts on a namespace's sockets on every node, or on those in a room (a
// socket id is its own room) when the filter is given. A command whose
// arguments are not of that shape does nothing; one that asked for an
// acknowledgement gets {ok: true}, or {ok: false, code, error}.
//
//	emit(nsp, filter, event, ...args)
//	join(nsp, room, filter?)
//	leave(nsp, room, filter?)
//	_disconnect(nsp, close, filter?)
func (a *Admin) commands() map[string]socketio.EventHandler {
	return map[string]socketio.EventHandler{
		"emit":        a.command(a.emit),
		"join":        a.command(a.join),
		"leave":       a.command(a.leave),
		"_disconnect": a.command(a.disconnect),
	}
}

// ackReply is a command's acknowledgement.
type ackReply struct {
	OK    bool   `json:"ok"`
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// command wraps a command's function: it logs what it did or why not, and
// acknowledges when asked.
func (a *Admin) command(f func(e *socketio.Event) error) socketio.EventHandler {
	return func(so *socketio.Socket, e *socketio.Event) {
		err := f(e)
		if err != nil {
			a.log.Info("admin command refused", "command", e.Name, "err", err, "sid", so.ID())
		} else {
			a.log.Info("admin command", "command", e.Name, "args", argsForLog(e), "sid", so.ID())
		}
		if !e.HasAck() {
			return
		}
		reply := ackReply{OK: true}
		switch {
		case errors.Is(err, errNoNamespace):
			reply = ackReply{Code: codeNoSuchNsp, Error: err.Error()}
		case errors.Is(err, errBadArgs):
			reply = ackReply{Code: codeBadRequest, Error: err.Error()}
		case err != nil:
			reply = ackReply{Code: codeFailed, Error: err.Error()}
		}
		_ = e.Ack(reply)
	}
}

// argsForLog returns the first arguments of a command, those that say what
// it acts on, not what it sends.
func argsForLog(e *socketio.Event) string {
	n := min(len(e.Args), 3)
	b, _ := json.Marshal(e.Args[:n])
	return string(b)
}

// reservedEvents are the names a server may not emit: the clients take
// them for their own.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

func (a *Admin) emit(e *socketio.Event) error {
	if len(e.Args) < 3 {
		return fmt.Errorf("%w: emit wants a namespace, a filter and an event", errBadArgs)
	}
	op, err := a.target(e.Args[0], e.Args[1])
	if err != nil {
		return err
	}
	var name string
	if json.Unmarshal(e.Args[2], &name) != nil || name == "" {
		return fmt.Errorf("%w: the event name must be a string", errBadArgs)
	}
	if reservedEvents[name] {
		return fmt.Errorf("%w: %q is a reserved event name", errBadArgs, name)
	}
	return op.EmitRaw(name, e.Args[3:], e.Attachments)
}

func (a *Admin) join(e *socketio.Event) error {
	op, room, err := a.roomCommand(e)
	if err != nil {
		return err
	}
	return op.SocketsJoin(room)
}

func (a *Admin) leave(e *socketio.Event) error {
	op, room, err := a.roomCommand(e)
	if err != nil {
		return err
	}
	return op.SocketsLeave(room)
}

func (a *Admin) disconnect(e *socketio.Event) error {
	if len(e.Args) < 2 {
		return fmt.Errorf("%w: _disconnect wants a namespace and close", errBadArgs)
	}
	var closeConn bool
	if json.Unmarshal(e.Args[1], &closeConn) != nil {
		return fmt.Errorf("%w: close must be a boolean", errBadArgs)
	}
	op, err := a.target(e.Args[0], optional(e.Args, 2))
	if err != nil {
		return err
	}
	return op.DisconnectSockets(closeConn)
}

// roomCommand reads join's and leave's arguments: (nsp, room, filter?).
func (a *Admin) roomCommand(e *socketio.Event) (*socketio.BroadcastOperator, string, error) {
	if len(e.Args) < 2 {
		return nil, "", fmt.Errorf("%w: %s wants a namespace and a room", errBadArgs, e.Name)
	}
	var room string
	if json.Unmarshal(e.Args[1], &room) != nil || room == "" {
		return nil, "", fmt.Errorf("%w: the room must be a non-empty string", errBadArgs)
	}
	op, err := a.target(e.Args[0], optional(e.Args, 2))
	return op, room, err
}

// optional returns args[i], or nil when there is none.
func optional(args []json.RawMessage, i int) json.RawMessage {
	if i < len(args) {
		return args[i]
	}
	return nil
}

// target selects the sockets of the namespace that nspArg names, those in
// the room that filterArg names when it is a non-empty string (null,
// absent or "" for all). Only existing namespaces are named: a command
// makes none.
func (a *Admin) target(nspArg, filterArg json.RawMessage) (*socketio.BroadcastOperator, error) {
	var name string
	if json.Unmarshal(nspArg, &name) != nil || name == "" {
		return nil, fmt.Errorf("%w: the namespace must be a string", errBadArgs)
	}
	nsp := a.srv.Lookup(name)
	if nsp == nil {
		return nil, fmt.Errorf("%w: %q", errNoNamespace, name)
	}
	var filter *string
	if len(filterArg) > 0 && json.Unmarshal(filterArg, &filter) != nil {
		return nil, fmt.Errorf("%w: the filter must be a string or null", errBadArgs)
	}
	if filter != nil && *filter != "" {
		return nsp.To(*filter), nil
	}
	return nsp.Except(), nil
}
