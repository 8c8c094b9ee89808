// Package adaptertest is the conformance suite of the socketio.Adapter
// implementations that make several nodes one cluster through a broker
// (Redis, for package cluster): every such implementation runs Run with a
// Factory of its own, so that all of them keep the same contract.
//
//	func TestAdapter(t *testing.T) { adaptertest.Run(t, factory) }
//
// Each check starts a cluster of its own, of three nodes unless it needs
// fewer, connects clients to them with package sioclient, as real clients
// connect, and checks what those clients receive and what the servers
// report: broadcasts to every socket, to rooms, less rooms and socket ids,
// local ones, binary ones, in order; the operations on sockets across
// nodes (socketsJoin, socketsLeave, disconnectSockets); fetchSockets;
// server-side events with and without replies, and what requests do when
// a node does not answer or closes; connection state recovery across nodes.
//
// What the suite takes for the contract beyond the socketio.Adapter
// documentation, as the reference adapters do it:
//
//   - Socket ids are 20 characters, and a room of 20 characters is a
//     socket's own room: the suite names no other room so.
//   - What one node sends (broadcasts and operations on sockets) reaches
//     every other node in the order it was sent. The suite uses a broadcast
//     to every socket as a fence: once every client has it, whatever the
//     same node sent before has been handled everywhere, and what a client
//     has not received by then it will not receive.
//
// It is for tests only.
package adaptertest
