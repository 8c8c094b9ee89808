package chat

import (
	"sync"
	"time"
)

// How rooms fall idle. A room is listed while it is in use and for
// Config.RoomIdle after: its Active time in the store says when it was
// last in use, moved on by its messages (the store does that), by its
// loading, and by the sweeper, which writes it for the rooms people are
// in every RoomIdle/4, and once more after the last of them left. An
// empty room stays loaded for roomUnloadAfter (at most RoomIdle), then
// lets go of its memory; it is loaded again, from the store, by the next
// join.
const roomUnloadAfter = 5 * time.Minute

// sweeper is the goroutine that sweeps the rooms, owned by the Chat: Close
// stops it.
type sweeper struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// listedSince returns the time since which a room must have been active
// to be listed.
func (c *Chat) listedSince() time.Time { return time.Now().Add(-c.cfg.RoomIdle) }

// unloadAfter is how long an empty room stays loaded.
func (c *Chat) unloadAfter() time.Duration { return min(roomUnloadAfter, c.cfg.RoomIdle) }

// touchEvery is how often the Active of a room in use is written.
func (c *Chat) touchEvery() time.Duration { return c.cfg.RoomIdle / 4 }

// startSweeper starts the sweeper.
func (c *Chat) startSweeper() {
	c.roomSweep = sweeper{stop: make(chan struct{}), done: make(chan struct{})}
	every := min(c.unloadAfter(), c.touchEvery()) / 2
	go func() {
		defer close(c.roomSweep.done)
		t := time.NewTicker(max(every, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-c.roomSweep.stop:
				c.sweepRooms(time.Now(), true)
				return
			case now := <-t.C:
				c.sweepRooms(now, false)
				c.caps.sweep(now)
			}
		}
	}()
}

// stopSweeper stops the sweeper and waits for it to end.
func (c *Chat) stopSweeper() {
	c.roomSweep.once.Do(func() { close(c.roomSweep.stop) })
	<-c.roomSweep.done
}

// stale reports whether a room must be touched now: it is in use (people
// are in it; the default room, which every connection hears, always is)
// and was touched longer ago than touchEvery (or at all before now, if
// final: the chat is closing), or was in use after it was last touched.
// Chat.mu must be held.
func (c *Chat) stale(r *room, now time.Time, final bool) bool {
	if len(r.members) > 0 || r.name == DefaultRoom {
		return now.Sub(r.touched) >= c.touchEvery() || (final && r.touched.Before(now))
	}
	return r.touched.Before(r.used)
}

// sweepRooms writes the Active of the loaded rooms that were in use since
// it was last written, and lets go of the rooms nobody has been in for
// unloadAfter (never the default room, which every connection hears);
// the final sweep, as the chat closes, writes that the rooms in use were
// until now, and lets go of nothing. It runs on the sweeper, with no lock
// held but Chat.mu, briefly, twice.
func (c *Chat) sweepRooms(now time.Time, final bool) {
	unload := !final
	var (
		touch   []string // the names of touched
		touched []*room
		idle    []*room
	)
	c.mu.Lock()
	for _, r := range c.rooms {
		if c.stale(r, now, final) {
			touch = append(touch, r.name)
			touched = append(touched, r)
		}
		if unload && r.name != DefaultRoom && len(r.members) == 0 && now.Sub(r.used) >= c.unloadAfter() {
			idle = append(idle, r)
		}
	}
	c.mu.Unlock()
	if len(touch) > 0 {
		ctx, cancel := storeContext()
		err := c.store.TouchRooms(ctx, now, touch)
		cancel()
		if err != nil {
			// The rooms stay loaded, to be touched at the next sweep.
			c.log.Warn("recording the rooms in use", "rooms", len(touch), "err", err)
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range touched {
		if r := c.rooms[r.id]; r != nil && r.touched.Before(now) {
			r.touched = now
		}
	}
	unloaded := 0
	for _, r := range idle {
		// Still nobody, and its last use is in the store.
		if c.rooms[r.id] == r && len(r.members) == 0 && now.Sub(r.used) >= c.unloadAfter() && !r.touched.Before(r.used) {
			delete(c.rooms, r.id)
			r.unloaded = true
			unloaded++
		}
	}
	if unloaded > 0 {
		c.log.Debug("unloaded idle rooms", "rooms", unloaded, "loaded", len(c.rooms))
	}
}

// reloadRooms puts loaded rooms in place of the rooms of p that were
// unloaded meanwhile (p was gone long enough for them to empty and idle),
// so that p comes back to the rooms people hear. No lock may be held.
func (c *Chat) reloadRooms(p *person) error {
	c.mu.Lock()
	var gone []*room
	for id, r := range p.rooms {
		if !r.unloaded {
			continue
		}
		if loaded := c.rooms[id]; loaded != nil {
			p.rooms[id] = loaded
		} else {
			gone = append(gone, r)
		}
	}
	c.mu.Unlock()
	for _, old := range gone {
		r, err := c.loadRoom(old.name, nil)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if old := p.rooms[old.id]; old != nil && old.unloaded {
			p.rooms[old.id] = r
		}
		c.mu.Unlock()
	}
	return nil
}
