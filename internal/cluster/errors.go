package cluster

import "errors"

// Errors of the adapter.
var (
	// ErrBacklog means the queue of what is to be sent to Redis is full,
	// Redis being slow or unreachable: the other nodes will not get it.
	ErrBacklog = errors.New("cluster: too much waiting to be sent to Redis")
	// ErrClosed means the Node is closed.
	ErrClosed = errors.New("cluster: node closed")
	// ErrTimeout means some node did not answer a request in time.
	ErrTimeout = errors.New("cluster: some nodes did not answer in time")
)
