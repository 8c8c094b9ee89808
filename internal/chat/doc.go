// Package chat is parley's chat application. It keeps the Socket.IO chat
// tutorial's contract (new-user, send-chat-message, chat-message,
// user-connected, user-disconnected) and adds rooms, persistent history,
// presence and typing indicators, with validation, identities, rate
// limits and acknowledgements.
//
// A person is an identity (identity.go): a guest's, proved by a token the
// server issued (Config.Tokens), which holds its name in the store for
// Config.NameReserve, or, in app mode (Config.Verifier), a host
// application's user, proved by the JWT of the socket's handshake. The
// sockets of one identity are one person (people.go): listed once,
// announced when the first comes and when the last goes, after the
// presence grace unless they said goodbye. Limits that a new connection
// must not reset are kept per identity and per client address (package
// ratelimit).
//
// Every socket that joins with new-user enters the default room, "general",
// where the tutorial's events live. Messages are stored durably (package
// store) before they are broadcast and acknowledged, and are broadcast in
// the order of their ids.
//
// Every connection first hears welcome (welcome.go): the store's epoch,
// which changes only when the store starts over and in which message ids
// count, and the limits a page counts against. Room names are normalised
// as names are, and a room is found by the confusable key of its name
// (store.RoomKey), so that names that look alike name one room, shown as
// first spelt; a room someone creates is announced to everyone connected
// (roomcreated.go), as often as the room caps let rooms be made.
//
// A room's deliverMu is held while delivering the room's history and its
// live messages, so that a joining socket misses none and gets none twice.
// It is never held over a read of the store, nor while waiting on the
// network, on the store's writer or on a client: a room keeps its recent
// messages in memory, and a joiner's history comes from them; the store is
// read, without the lock, only for older ones, and a catch-up larger than
// the client's send queue takes at once is sent in pieces without it, on a
// goroutine of its own (catchup.go). Chat.mu is never held over work
// that grows with a room's size: a room keeps its members' names sorted as
// they come and go (nameIndex), and a member list, made only for a client
// that asks for it, is a page of them (at most MaxUsersPage names and
// MaxListBytes), copied under Chat.mu. Every list the chat answers with is
// so paged and bounded, so that no answer outgrows what the asker's
// connection can queue. The order of these locks among the server's is
// written down in docs/locking.md.
//
// With Config.Cluster, the Chat is one node of a chat that several
// processes serve over one store and one Redis (docs/cluster.md): each
// node delivers every room's messages to its own sockets in id order,
// relaying those it stored to the others and reading from the store what
// a gap shows it lacks (sequence.go), and keeps its people in the
// cluster's presence, which says when an arrival or a departure is news
// to the cluster, and which other nodes take back when a node dies
// (cluster.go, package presence).
package chat
