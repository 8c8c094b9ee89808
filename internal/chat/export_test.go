package chat

import "slices"

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

// EventRelay is the server-side event that carries a stored message to the
// other nodes of a cluster.
const EventRelay = eventRelay
