package chat

import "github.com/parley-chat/parley/internal/store"

// EventRoomCreated tells everyone connected of a room someone has just
// created, so that the lists of rooms they show have it at once, not at
// their next list-rooms. Its payload is RoomCreated. It is sent as often
// as rooms are created, which the room caps bound (RoomsPerPerson,
// RoomsPerAddress, MaxRooms): the default room, made by the chat, is not
// announced, nor is a room that exists already, whoever joins it.
const EventRoomCreated = "room-created"

// RoomCreated is the payload of room-created: the room's name, as
// list-rooms gives it, with no one in it yet and no message.
type RoomCreated struct {
	Name string `json:"name"`
}

// announceRoom tells everyone connected that r was just created.
func (c *Chat) announceRoom(r store.Room) {
	c.log.Debug("room created", "room", r.Name)
	_ = c.nsp.Emit(EventRoomCreated, RoomCreated{Name: r.Name})
}
