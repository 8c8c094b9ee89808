package chat

import (
	"slices"

	"github.com/parley-chat/parley/internal/store"
)

// LoadedRooms returns the names of the rooms whose state is loaded, sorted.
func (c *Chat) LoadedRooms() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.rooms))
	for name := range c.rooms {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// SeqName is the name of a room's sequence in a cluster's stream, and
// RoomKey the Socket.IO room of its members.
func SeqName(room string) string { return "room:" + store.RoomKey(room) }

// RoomKey is the Socket.IO room of a chat room's members.
func RoomKey(room string) string { return roomKey(room) }

// WireMessage is the chat-message payload of m.
func WireMessage(m store.Message) ChatMessage { return wireMessage(m) }
