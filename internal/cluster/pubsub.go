package cluster

import (
	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
)

// subscribeLoop subscribes to the channels of new namespaces, each on
// the PUB/SUB connection of its slot (pubsub). A failed SUBSCRIBE is not
// retried here: the PUB/SUB connection keeps the channels, and subscribes
// to them again when it reconnects.
func (nd *Node) subscribeLoop() {
	defer nd.wg.Done()
	for {
		select {
		case <-nd.subWake:
		case <-nd.ctx.Done():
			return
		}
		nd.mu.Lock()
		list := nd.toSub
		nd.toSub = nil
		nd.mu.Unlock()
		bySlot := make(map[int][]string)
		for _, ch := range list {
			s := 0
			if nd.perSlot {
				s = slot(ch)
			}
			bySlot[s] = append(bySlot[s], ch)
		}
		for s, channels := range bySlot {
			ps, fresh := nd.pubsub(s)
			if ps == nil {
				return // closed
			}
			var err error
			if nd.cfg.ShardedPubSub {
				err = ps.SSubscribe(nd.ctx, channels...)
			} else {
				err = ps.Subscribe(nd.ctx, channels...)
			}
			if fresh {
				// Only now, once the connection is made for the
				// channels: a connection made without them goes to any
				// server of a Redis Cluster.
				nd.wg.Add(1)
				go nd.receiveLoop(ps)
			}
			if err != nil && nd.ctx.Err() == nil {
				nd.log.Warn("cluster: subscribing failed; subscribing again once Redis is back", logKeyError, err)
			}
		}
	}
}

// pubsub returns the PUB/SUB connection of the channels of slot s (0 for
// every channel, but with perSlot), and whether it is new; nil once the
// node is closed.
func (nd *Node) pubsub(s int) (*redis.PubSub, bool) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.closed {
		return nil, false
	}
	if ps := nd.pubsubs[s]; ps != nil {
		return ps, false
	}
	var ps *redis.PubSub
	if nd.cfg.ShardedPubSub {
		ps = nd.cfg.Client.SSubscribe(nd.ctx)
	} else {
		ps = nd.cfg.Client.Subscribe(nd.ctx)
	}
	nd.pubsubs[s] = ps
	return ps, true
}

// receiveLoop handles what comes on a PUB/SUB connection: confirmations
// of subscriptions, and messages.
func (nd *Node) receiveLoop(ps *redis.PubSub) {
	defer nd.wg.Done()
	for v := range ps.ChannelWithSubscriptions(redis.WithChannelSize(1024)) {
		switch v := v.(type) {
		case *redis.Subscription:
			if v.Kind == "subscribe" || v.Kind == "ssubscribe" {
				nd.mu.Lock()
				if _, ok := nd.channels[v.Channel]; ok {
					nd.channels[v.Channel] = true
					nd.changedLocked()
				}
				nd.mu.Unlock()
			}
		case *redis.Message:
			nd.onPayload(v.Channel, []byte(v.Payload))
		}
	}
}

// onPayload handles a PUB/SUB message.
func (nd *Node) onPayload(channel string, payload []byte) {
	m, err := wire.DecodePayload(payload)
	if err != nil {
		nd.log.Debug("cluster: dropping an invalid message", "channel", channel, logKeyError, err)
		return
	}
	if m.UID == nd.uid {
		return
	}
	a := nd.adapter(m.Nsp)
	if a == nil {
		return
	}
	nd.handle(a, m, "")
}
