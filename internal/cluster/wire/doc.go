// Package wire encodes and decodes the messages that the nodes of a
// Socket.IO cluster exchange through Redis, in the format of the npm package
// @socket.io/redis-streams-adapter 0.3.x and the cluster messages of
// socket.io-adapter 2.5, so that parley nodes and Node.js servers using that
// adapter form one cluster.
//
// A message has the sending node's id (uid), a namespace (nsp), a Type and,
// for most types, data: an object whose keys depend on the type (Message
// holds them all as fields). It travels one of two ways:
//
//   - In the Redis stream (XADD), as an Entry of string fields uid, nsp,
//     type (the Type in decimal) and data: the data as JSON or, when it
//     holds binary values, as base64 of its MessagePack encoding
//     (EncodeEntry, DecodeEntry). Broadcasts without acknowledgement and
//     SOCKETS_JOIN, SOCKETS_LEAVE and DISCONNECT_SOCKETS go this way, in
//     order, and are kept for connection state recovery.
//   - Over Redis PUB/SUB, as the MessagePack encoding of the whole message
//     (EncodePayload, DecodePayload): the ephemeral requests
//     (FETCH_SOCKETS, SERVER_SIDE_EMIT, broadcasts with acknowledgement) on
//     a namespace's public channel, and the responses on the private
//     channel of the node that asked (PublicChannel, PrivateChannel).
//
// Values of any type, such as event arguments, are held as a Value: JSON in
// which binary data is a placeholder {"_placeholder":true,"num":N}, N
// indexing the Value's attachments, as Socket.IO packets carry them
// (package sioparser). Decoding MessagePack turns its binary strings into
// placeholders; encoding turns placeholders back into binary strings.
//
// It does no I/O. Decoding never panics on any input; an error means the
// peer sent what the format does not allow, and the message is to be
// dropped. Its functions are safe for concurrent use.
package wire
