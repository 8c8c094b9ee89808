package cluster

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster/wire"
	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
)

// This file is the adapter's sequences (socketio.Sequencer): broadcasts
// numbered by the application, one sequence per key (a chat room), that
// the stream holds in their order, each once. A script appends number id
// to the stream only when the sequence's last number, kept in Redis beside
// the stream, is id-1: whichever node appends it, in whatever order the
// nodes' commands arrive, the stream has the sequence in order. Every
// node's sockets, the sender's included, then get them from the stream,
// in its order, and a client recovered on any node gets those it missed.

// SeqKeyTTL is how long the last number of a sequence is kept after it
// was last appended to. Once it is gone, the next number of the sequence
// is appended whatever it is.
const SeqKeyTTL = 7 * 24 * time.Hour

// seqScript appends an entry to a stream as number ARGV[1] of the
// sequence whose last number KEYS[2] holds. ARGV: the number, MAXLEN,
// force ("1" or "0"), the key's lifetime in seconds, then the entry's
// fields and values. It returns {1, entry id} when it appended, {0, last}
// when the sequence had the number already, {-1, last} for a gap.
const seqScript = `
local id = tonumber(ARGV[1])
local last = tonumber(redis.call("GET", KEYS[2]) or "0")
if id <= last then return {0, tostring(last)} end
if last > 0 and id ~= last + 1 and ARGV[3] ~= "1" then return {-1, tostring(last)} end
local entry = redis.call("XADD", KEYS[1], "MAXLEN", "~", ARGV[2], "*", unpack(ARGV, 5))
redis.call("SET", KEYS[2], ARGV[1], "EX", ARGV[4])
return {1, entry}
`

// seqLua is seqScript, sent by its hash (EVALSHA), and whole when Redis
// does not have it.
var seqLua = redis.NewScript(seqScript)

// seqJob makes a stream job go through seqScript.
type seqJob struct {
	key   string // the key of the sequence's last number
	id    int64
	force bool
	done  func(socketio.SequenceResult)
	eval  bool // Redis lacked the script: send it whole
}

// SeqKey returns the key of the last number of sequence seq of stream:
// in the stream's slot of a Redis Cluster (its hash tag, or the stream's
// name as one).
func SeqKey(stream, seq string) string {
	if strings.Contains(stream, "{") {
		return stream + ":seq:" + seq
	}
	return "{" + stream + "}:seq:" + seq
}

// UseSequences makes the node's own broadcasts reach its sockets from the
// stream, and sets the filter of what the stream brings.
func (a *adapter) UseSequences(filter socketio.DeliveryFilter) {
	if filter != nil {
		a.filter.Store(&filter)
	}
	a.fromStream.Store(true)
}

// BroadcastInSequence appends b to the stream as number id of seq, through
// the publisher's queue (see publisher.push): it never blocks.
func (a *adapter) BroadcastInSequence(b *socketio.Broadcast, seq string, id int64, force bool, done func(socketio.SequenceResult)) error {
	if !a.fromStream.Load() {
		return fmt.Errorf("cluster: a sequence needs UseSequences first")
	}
	if id <= 0 {
		return fmt.Errorf("cluster: sequence number %d: not positive", id)
	}
	return a.publishJob(&wire.Message{
		Type:   wire.TypeBroadcast,
		Packet: wire.Packet{Type: int(sioparser.PacketEvent), Data: wire.Value{JSON: b.Packet.Data, Attachments: b.Packet.Attachments}},
		Opts:   wire.Options{Rooms: b.Rooms, Except: b.Except},
	}, &seqJob{key: SeqKey(a.stream, seq), id: id, force: force, done: done})
}

// seqArgs returns the arguments of seqScript for j.
func (p *publisher) seqArgs(j *job) []any {
	force := "0"
	if j.seq.force {
		force = "1"
	}
	args := make([]any, 0, 4+len(j.fields))
	args = append(args, j.seq.id, p.maxLen, force, int64(SeqKeyTTL/time.Second))
	for _, f := range j.fields {
		args = append(args, f)
	}
	return args
}

// seqResult reads seqScript's reply.
func seqResult(c redis.Cmder) socketio.SequenceResult {
	v, err := c.(*redis.Cmd).Slice()
	if err != nil {
		return socketio.SequenceResult{Status: socketio.SequenceFailed, Err: err}
	}
	if len(v) != 2 {
		return socketio.SequenceResult{Status: socketio.SequenceFailed, Err: fmt.Errorf("cluster: sequence script: reply %v", v)}
	}
	code, _ := v[0].(int64)
	s, _ := v[1].(string)
	switch code {
	case 1:
		return socketio.SequenceResult{Status: socketio.SequenceAppended}
	case 0, -1:
		last, _ := strconv.ParseInt(s, 10, 64)
		st := socketio.SequencePresent
		if code == -1 {
			st = socketio.SequenceGap
		}
		return socketio.SequenceResult{Status: st, Last: last}
	}
	return socketio.SequenceResult{Status: socketio.SequenceFailed, Err: fmt.Errorf("cluster: sequence script: reply %v", v)}
}
