package cluster

import (
	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
)

// subscribeLoop subscribes to the channels of new namespaces. A failed
// SUBSCRIBE is not retried here: the PUB/SUB connection keeps the
// channels, and subscribes to them again when it reconnects.
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
		if len(list) == 0 {
			continue
		}
		var err error
		if nd.cfg.ShardedPubSub {
			err = nd.ps.SSubscribe(nd.ctx, list...)
		} else {
			err = nd.ps.Subscribe(nd.ctx, list...)
		}
		if err != nil && nd.ctx.Err() == nil {
			nd.log.Warn("cluster: subscribing failed; subscribing again once Redis is back", logKeyError, err)
		}
	}
}

// receiveLoop handles what comes on the PUB/SUB connection: confirmations
// of subscriptions, and messages.
func (nd *Node) receiveLoop() {
	defer nd.wg.Done()
	for v := range nd.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024)) {
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
