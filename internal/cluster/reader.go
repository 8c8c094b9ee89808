package cluster

import (
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
)

// readLoop reads a stream with a blocking XREAD, from where it ended when
// the loop started, and hands each entry of another node to its
// namespace's adapter. After a failure it waits, longer each time, and
// reads on from the last entry it read: nothing is read twice.
func (nd *Node) readLoop(stream string) {
	defer nd.wg.Done()
	log := nd.log.With(logKeyStream, stream)
	last, failures := "", 0
	for nd.ctx.Err() == nil {
		if last == "" {
			id, err := nd.streamEnd(stream)
			if err != nil {
				failures++
				if failures == 1 {
					log.Warn("cluster: cannot reach Redis to read the stream", logKeyError, err)
				}
				nd.sleep(backoff(failures))
				continue
			}
			last = id
			nd.mu.Lock()
			nd.streams[stream] = true
			nd.looked[stream], nd.done[stream] = id, id
			for _, a := range nd.adapters {
				if a.stream == stream && a.base == "" {
					a.base = id
				}
			}
			nd.changedLocked()
			nd.mu.Unlock()
		}
		res, err := nd.cfg.Client.XRead(nd.ctx, &redis.XReadArgs{
			Streams: []string{stream, last},
			Count:   nd.cfg.ReadCount,
			Block:   nd.cfg.BlockTime,
		}).Result()
		if errors.Is(err, redis.Nil) {
			failures = 0
			continue // nothing new within BlockTime
		}
		if err != nil {
			if nd.ctx.Err() != nil {
				return
			}
			failures++
			if failures == 1 {
				log.Warn("cluster: reading the stream failed; reading on from the last entry once Redis is back", logKeyError, err)
			}
			nd.sleep(backoff(failures))
			continue
		}
		if failures > 0 {
			log.Info("cluster: reading the stream again")
			failures = 0
		}
		for _, s := range res {
			for _, msg := range s.Messages {
				last = msg.ID
				nd.onEntry(stream, msg)
			}
		}
	}
}

// streamEnd returns the id of the stream's last entry, "0-0" when it has
// none.
func (nd *Node) streamEnd(stream string) (string, error) {
	msgs, err := nd.cfg.Client.XRevRangeN(nd.ctx, stream, "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// readBack holds the type fields of the entries a node handles when it
// reads its own back, with recovery on: broadcasts and operations on
// sockets.
var readBack = map[string]bool{
	broadcastType:                                 true,
	strconv.Itoa(int(wire.TypeSocketsJoin)):       true,
	strconv.Itoa(int(wire.TypeSocketsLeave)):      true,
	strconv.Itoa(int(wire.TypeDisconnectSockets)): true,
}

// entryOf returns the fields of a stream entry.
func entryOf(msg redis.XMessage) wire.Entry {
	field := func(k string) string {
		s, _ := msg.Values[k].(string)
		return s
	}
	return wire.Entry{UID: field("uid"), Nsp: field("nsp"), Type: field("type"), Data: field("data")}
}

// onEntry handles a stream entry, unless it is of a namespace the node
// does not serve, or the node's own: those it applied when it sent them,
// but with recovery on (or sequences used: adapter.fromStream), its broadcasts, which reach its sockets from here,
// in the stream's order, with their entry ids for offsets, and its
// operations on sockets, in order with them. It notes the entry as looked
// at, then as handled (see Node.looked).
func (nd *Node) onEntry(stream string, msg redis.XMessage) {
	e := entryOf(msg)
	nd.mu.Lock()
	nd.looked[stream] = msg.ID
	a := nd.adapters[e.Nsp]
	nd.mu.Unlock()
	defer func() {
		nd.mu.Lock()
		nd.done[stream] = msg.ID
		nd.mu.Unlock()
	}()
	if a == nil || e.Nsp == "" {
		return
	}
	if e.UID == nd.uid && (!readBack[e.Type] || !a.fromStream.Load()) {
		return
	}
	m, err := wire.DecodeEntry(e)
	if err != nil {
		nd.log.Debug("cluster: dropping an invalid stream entry", "id", msg.ID, logKeyError, err)
		return
	}
	nd.handle(a, m, msg.ID)
}
