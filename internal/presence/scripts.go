package presence

import "github.com/redis/go-redis/v9"

// The scripts keep each change atomic. Their keys are built from the
// prefix (ARGV[1]) inside them: they share the prefix's hash slot with the
// KEYS they are routed by.
//
// A node's entry of a person in a room is "<room>\0<id>" in the node's
// set, <prefix>:node:<uid>. A room's people are the hash
// <prefix>:room:<room>, id -> "<nodes> <name>", and its sorted names the
// sorted set <prefix>:names:<room>, "<name>\0<id>" at score 0; those
// online at all are the hash <prefix>:online, id -> "<nodes> <name>".

// leaveLua is the part of the scripts that takes one node's entry of id
// out of a room's people (pk, its names nk): it returns the person's name
// if no node has them there any more, false otherwise.
const leaveLua = `
local function leave(pk, nk, room, id)
  local v = redis.call('HGET', pk, id)
  if not v then return false end
  local sp = string.find(v, ' ', 1, true)
  local n = tonumber(string.sub(v, 1, sp - 1)) - 1
  local name = string.sub(v, sp + 1)
  if n > 0 then
    redis.call('HSET', pk, id, n .. ' ' .. name)
    return false
  end
  redis.call('HDEL', pk, id)
  if room ~= '' then redis.call('ZREM', nk, name .. '\0' .. id) end
  return name
end
local function keys(prefix, room)
  if room == '' then return prefix .. ':online', '' end
  return prefix .. ':room:' .. room, prefix .. ':names:' .. room
end
`

// applyScript applies one Op of a node. KEYS[1]: the node's set. ARGV:
// prefix, "1" to leave or "0" to join, room, id, name. It returns 1 when
// the cluster's presence changed, 0 otherwise.
var applyScript = redis.NewScript(leaveLua + `
local room, id = ARGV[3], ARGV[4]
local pk, nk = keys(ARGV[1], room)
local entry = room .. '\0' .. id
if ARGV[2] == '1' then
  if redis.call('SREM', KEYS[1], entry) == 0 then return 0 end
  if leave(pk, nk, room, id) then return 1 end
  return 0
end
if redis.call('SADD', KEYS[1], entry) == 0 then return 0 end
local v = redis.call('HGET', pk, id)
if v then
  local sp = string.find(v, ' ', 1, true)
  redis.call('HSET', pk, id, (tonumber(string.sub(v, 1, sp - 1)) + 1) .. string.sub(v, sp))
  return 0
end
redis.call('HSET', pk, id, '1 ' .. ARGV[5])
if room ~= '' then redis.call('ZADD', nk, 0, ARGV[5] .. '\0' .. id) end
return 1
`)

// nowLua sets now to Redis's time in milliseconds: the leases are on one
// clock, Redis's.
const nowLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// renewScript renews a node's lease. KEYS[1]: the leases (sorted set,
// uid -> end in ms), KEYS[2]: the nodes being reaped. ARGV: prefix, uid,
// lease in ms. It returns 0 when the node held its lease, 1 when it had
// none (it is new, or Redis lost its keys), 2 when others reaped it (its
// mark, <prefix>:reaped:<uid>, is there).
var renewScript = redis.NewScript(nowLua + `
local fresh = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('SREM', KEYS[2], ARGV[2])
if fresh == 1 and redis.call('DEL', ARGV[1] .. ':reaped:' .. ARGV[2]) == 1 then return 2 end
return fresh
`)

// reapScript takes back up to ARGV[2] entries of one node whose lease ran
// out. KEYS[1]: the leases, KEYS[2]: the nodes being reaped. ARGV: prefix,
// count, the calling node's uid (never reaped by itself), how long in
// seconds a reaped node's mark stays. It first moves the nodes whose lease
// ended to those being reaped, marked (so that one that renews its lease
// learns it was reaped), then pops entries of one of them. It returns {} when no node is to be reaped, or {uid, then room,
// id, name for each person that node alone had}.
var reapScript = redis.NewScript(nowLua + leaveLua + `
local ended = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, 100)
for _, uid in ipairs(ended) do
  if uid ~= ARGV[3] then
    redis.call('ZREM', KEYS[1], uid)
    redis.call('SADD', KEYS[2], uid)
    redis.call('SET', ARGV[1] .. ':reaped:' .. uid, '1', 'EX', tonumber(ARGV[4]))
  end
end
local uid = redis.call('SRANDMEMBER', KEYS[2])
if not uid then return {} end
local set = ARGV[1] .. ':node:' .. uid
local out = {uid}
for _, e in ipairs(redis.call('SPOP', set, tonumber(ARGV[2]))) do
  local z = string.find(e, '\0', 1, true)
  if z then
    local room, id = string.sub(e, 1, z - 1), string.sub(e, z + 1)
    local pk, nk = keys(ARGV[1], room)
    local name = leave(pk, nk, room, id)
    if name then
      table.insert(out, room)
      table.insert(out, id)
      table.insert(out, name)
    end
  end
end
if redis.call('SCARD', set) == 0 then redis.call('SREM', KEYS[2], uid) end
return out
`)

// scripts are loaded together when Redis says it has one of them not.
var scripts = []*redis.Script{applyScript, renewScript, reapScript}
