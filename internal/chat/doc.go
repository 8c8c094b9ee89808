// Package chat is parley's chat application: the event handlers of the
// Socket.IO chat tutorial's contract (new-user, send-chat-message,
// chat-message, user-connected, user-disconnected), with validation, unique
// names, rate limits and acknowledgements.
package chat
