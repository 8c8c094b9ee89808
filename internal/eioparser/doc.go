// Package eioparser encodes and decodes the packets of the Engine.IO
// protocol, version 4: the packet types, the text encoding of one packet as
// a WebSocket frame carries it, and the payloads of HTTP long-polling, in
// which packets are separated by 0x1e and binary ones are base64. It also
// names the reasons a session closes (CloseReason), which the server reports
// to its handler and the client to its sockets.
//
// It does no I/O and knows nothing of sessions or transports, so that the
// server (package engineio), the Go client (package sioclient) and the load
// generator (package bench) share one codec, as the reference implementation
// ships engine.io-parser apart from its server.
//
// Its functions are safe for concurrent use. A decoded Packet's Data may
// alias the input it was decoded from.
package eioparser
