package store

import "github.com/parley-chat/parley/internal/names"

// RoomKey returns the key by which a store finds a room: names.Key of
// name, the confusable skeleton that people's names are compared by, so
// that names that look alike ("general", "GENERAL", "generaӏ" with a
// Cyrillic palochka) name one room. A store keeps the key of each room it
// holds, computed when the room was created (or when the schema that
// brought keys was migrated to): a change of names.Key's table must come
// with a migration that computes the keys again.
func RoomKey(name string) string { return names.Key(name) }

// GroupRooms returns rooms in groups of one key (RoomKey of their names),
// each in the order of rooms, the groups in the order of their first
// rooms. A backend that comes to keys (a migration) keeps the first room
// of each group, which it gives rooms oldest first, and merges the others
// into it.
func GroupRooms(rooms []Room) [][]Room {
	var groups [][]Room
	at := make(map[string]int, len(rooms))
	for _, r := range rooms {
		k := RoomKey(r.Name)
		if i, ok := at[k]; ok {
			groups[i] = append(groups[i], r)
			continue
		}
		at[k] = len(groups)
		groups = append(groups, []Room{r})
	}
	return groups
}
