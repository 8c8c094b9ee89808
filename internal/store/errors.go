package store

import "errors"

// Errors returned by Store implementations and by Committer. They are
// returned wrapped, with what was being done; test for them with errors.Is.
var (
	// ErrNotFound reports that a looked-up room, message or identity does
	// not exist. History and Since do not return it: an unknown room has
	// no messages.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed reports a call on a Store or Committer after its Close.
	ErrClosed = errors.New("store: closed")
	// ErrInvalid reports a message, room name, claim or constant name that
	// cannot be stored: an empty room name, identity id, name key or
	// constant name, a claim without a time or with a negative reserve, or
	// a string that is not valid UTF-8 or contains a NUL byte (which
	// PostgreSQL's text type cannot hold).
	ErrInvalid = errors.New("store: invalid")
	// ErrOverloaded reports that Committer's queue was full: the message
	// was not stored, and the client should retry later.
	ErrOverloaded = errors.New("store: overloaded")
	// ErrSchemaTooNew reports a database whose schema was migrated by a
	// newer parley than this one; it is left untouched.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")
)
