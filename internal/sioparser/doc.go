// Package sioparser encodes and decodes the packets of the Socket.IO
// protocol, version 5: the packet types, the text encoding of a packet
// (EncodePacket, DecodePacket), the JSON arguments of events and
// acknowledgements (AppendEventArgs, SplitArgs, EventName, Message), and
// the reassembly of binary packets from the attachments that follow them
// (PacketReassembler).
//
// It does no I/O and knows nothing of Engine.IO: each packet travels as one
// Engine.IO message, its attachments as the binary messages after it, and
// framing them is the caller's business. The server (package socketio), the
// Go client (package sioclient) and the load generator share it, as the
// reference implementation ships socket.io-parser apart from its server.
//
// Decoding validates as strictly as the official server; an error on a
// peer's input wraps one of the sentinel errors of errors.go and means the
// peer broke the protocol. Decoded packets and arguments alias their input
// (see DecodePacket). The functions are safe for concurrent use; a
// PacketReassembler belongs to one connection's reader.
package sioparser
