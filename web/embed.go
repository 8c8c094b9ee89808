// Package web holds parley's browser files: the chat page and our own
// Socket.IO client library, embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// ClientScript is the path, inside Static, of the browser client library
// served at /socket.io/socket.io.js.
const ClientScript = "socket.io.js"

// Static returns the embedded files: index.html, style.css, the page's
// script (app.js and the ES modules under js/ it imports) and the client
// library.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}
