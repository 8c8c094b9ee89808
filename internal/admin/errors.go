package admin

import "errors"

// Errors of the package.
var (
	errNoUser      = errors.New("admin: no username")
	errBadHash     = errors.New("admin: the password hash is not a bcrypt hash")
	errBadMode     = errors.New("admin: unknown mode")
	errNoNamespace = errors.New("admin: no such namespace")
	errBadArgs     = errors.New("admin: bad arguments")
	errStarted     = errors.New("admin: already started")
)

// The connect errors a UI may be refused with. The first is the one the
// UI recognises (and shows as wrong credentials).
const (
	msgInvalidCredentials = "invalid credentials"
	msgTooManyAttempts    = "too many attempts"
)

// The codes of the acknowledgements of commands that asked for one.
const (
	codeBadRequest = "bad_request"
	codeNoSuchNsp  = "no_such_namespace"
	codeFailed     = "failed"
)
