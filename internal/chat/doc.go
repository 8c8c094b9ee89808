// Package chat is parley's chat application. It keeps the Socket.IO chat
// tutorial's contract (new-user, send-chat-message, chat-message,
// user-connected, user-disconnected) and adds rooms, persistent history,
// presence and typing indicators, with validation, unique names, rate
// limits and acknowledgements.
//
// Every socket that joins with new-user enters the default room, "general",
// where the tutorial's events live. Messages are stored durably (package
// store) before they are broadcast and acknowledged, and are broadcast in
// the order of their ids.
//
// Lock order: a room's deliverMu, then session.mu, then Chat.mu. deliverMu
// is held while delivering the room's history and its live messages (so
// that a joining socket misses none and gets none twice): over a read of
// the store, but never while waiting on the network or on the store's
// writer. Chat.mu is never held over work that grows with a room's size:
// a room keeps its members' names sorted as they come and go (nameIndex),
// and a member list, made only for a client that asks for it, is a
// snapshot taken under Chat.mu and copied out after.
package chat
