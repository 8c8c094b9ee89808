package chat

import "errors"

// Code is the stable, machine-readable name of a refusal. Clients switch on
// it, never on a refusal's text, which is for people and may change.
type Code string

// The refusal codes. Each refusal the chat sends carries one of them.
const (
	// CodeBadRequest: the event's arguments are not of the documented shape.
	CodeBadRequest Code = "bad_request"
	// CodeRateLimited: the connection, the person or the client's address
	// sent too many events; wait and retry.
	CodeRateLimited Code = "rate_limited"
	// CodeNameInvalid: the name is missing, not a string, blank or holds a
	// character that cannot be used.
	CodeNameInvalid Code = "name_invalid"
	// CodeNameTooLong: the name is longer than the server allows.
	CodeNameTooLong Code = "name_too_long"
	// CodeNameTaken: the name belongs to someone else, or is reserved.
	CodeNameTaken Code = "name_taken"
	// CodeAlreadyJoined: the socket has already joined under a name.
	CodeAlreadyJoined Code = "already_joined"
	// CodeNotJoined: the event needs a name first (new-user).
	CodeNotJoined Code = "not_joined"
	// CodeMessageInvalid: the message is missing, not a string, blank or
	// holds a character that cannot be stored.
	CodeMessageInvalid Code = "message_invalid"
	// CodeMessageTooLong: the message is longer than the server allows.
	CodeMessageTooLong Code = "message_too_long"
	// CodeRoomInvalid: the room name is not one the server accepts.
	CodeRoomInvalid Code = "room_invalid"
	// CodeRoomLimit: the room does not exist, and creating it would go
	// past a cap on the rooms created lately: by the person, from the
	// client's address, or in all. Joining an existing room is never
	// refused so.
	CodeRoomLimit Code = "room_limit"
	// CodeNotInRoom: the event names a room the person is not in.
	CodeNotInRoom Code = "not_in_room"
	// CodeNotStored: the message could not be stored; sending it again
	// (with the same clientId) is safe.
	CodeNotStored Code = "not_stored"
	// CodeUnavailable: the history could not be read; try again.
	CodeUnavailable Code = "unavailable"
	// CodeNotAuthenticated: in app mode, the socket has no identity (it
	// cannot happen to a socket the middleware let in).
	CodeNotAuthenticated Code = "auth_required"
)

// Refusal is an error a client reads, as an ack error or an error event: a
// stable Code and a Text for people.
type Refusal struct {
	Code Code
	Text string
}

// Error returns the refusal's text.
func (r *Refusal) Error() string { return r.Text }

// refusal returns the Refusal that err is, or wraps; an error that is none
// (a bug) is sent as unavailable rather than with its text.
func refusal(err error) *Refusal {
	if r, ok := errors.AsType[*Refusal](err); ok {
		return r
	}
	return ErrUnavailable
}

// The refusals. Their texts are what people read.
var (
	ErrNameType       = &Refusal{CodeNameInvalid, "name must be a string"}
	ErrNameEmpty      = &Refusal{CodeNameInvalid, "name must not be empty"}
	ErrNameTooLong    = &Refusal{CodeNameTooLong, "name is too long"}
	ErrNameTaken      = &Refusal{CodeNameTaken, "that name is taken: it belongs to someone else; choose another"}
	ErrNameReserved   = &Refusal{CodeNameTaken, "that name is reserved; choose another"}
	ErrAlreadyJoined  = &Refusal{CodeAlreadyJoined, "already joined"}
	ErrNotJoined      = &Refusal{CodeNotJoined, "join with new-user first"}
	ErrMessageType    = &Refusal{CodeMessageInvalid, "message must be a string"}
	ErrMessageEmpty   = &Refusal{CodeMessageInvalid, "message must not be empty"}
	ErrMessageTooLong = &Refusal{CodeMessageTooLong, "message is too long"}
	ErrRateLimited    = &Refusal{CodeRateLimited, "too many events; slow down"}
	ErrJoinsLimited   = &Refusal{CodeRateLimited, "too many joins from your address; wait a moment"}
	ErrClaimsLimited  = &Refusal{CodeRateLimited, "too many tries of names that belong to others; wait a minute"}
	ErrRoomInvalid    = &Refusal{CodeRoomInvalid, "room name must be 1 to 32 letters, digits, spaces, '-', '_' or '.'"}
	ErrNotInRoom      = &Refusal{CodeNotInRoom, "you are not in that room"}
	// The room caps: a client tells them apart by their texts only.
	ErrRoomLimitPerson  = &Refusal{CodeRoomLimit, "you have created too many rooms lately; join an existing room, or try again later"}
	ErrRoomLimitAddress = &Refusal{CodeRoomLimit, "too many rooms were created from your network address lately; join an existing room, or try again later"}
	ErrRoomsFull        = &Refusal{CodeRoomLimit, "the server has as many rooms as it keeps; join an existing room, or try again later"}
	ErrBadRequest       = &Refusal{CodeBadRequest, "malformed request"}
	ErrNameInvalid      = &Refusal{CodeNameInvalid, "name contains a character that cannot be used"}
	ErrMessageInvalid   = &Refusal{CodeMessageInvalid, "message contains a character that cannot be stored"}
	ErrNotStored        = &Refusal{CodeNotStored, "message could not be stored; try again"}
	ErrUnavailable      = &Refusal{CodeUnavailable, "history is unavailable; try again"}
	ErrNotAuthenticated = &Refusal{CodeNotAuthenticated, "authentication required"}
)

// errCatchUpOvertaken ends a catch-up whose room outruns its client (see
// maxCatchUpRounds); the client is closed, and never reads it.
var errCatchUpOvertaken = errors.New("chat: catch-up overtaken by the room")
