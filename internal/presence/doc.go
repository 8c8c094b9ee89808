// Package presence is the record, in Redis, of who is in which room of a
// chat that several nodes serve: the cluster's presence, which each node
// of the chat keeps up to date with what it knows of its own people, and
// reads when it lists a room's people.
//
// A node says that a person (an identity id, with a name) is in a room
// (Op), or online at all (room ""), and hears back whether that changed
// the cluster's presence: whether the person is now in the room on some
// node and was on none, or is now on none. Only such changes are news, so
// that a person with sockets on several nodes is announced once. Each
// node's entries are its own (a set per node), counted once per node for
// each person and room, so that applying an Op twice changes nothing.
//
// A node holds a lease (Renew) that it renews while it lives. The entries
// of a node whose lease ran out are taken back by the others (Reap), each
// entry by one of them, which hears the changes it makes: the people that
// node alone had are gone. A node whose lease ran out while it lived finds
// out when it renews it, and puts its entries back.
//
// Every key starts with Config.Prefix, which holds a hash tag, so that
// they all live in one slot of a Redis Cluster: the scripts touch several
// at once. The keys and their bounds are in docs/cluster.md.
package presence
