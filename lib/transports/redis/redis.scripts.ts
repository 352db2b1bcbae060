import { createHash } from 'node:crypto';

/**
 * The Lua scripts of `RedisTransport`. Each runs atomically in Redis, on Redis's
 * clock (`TIME`), so presence expiry and claim order never depend on the
 * instances' clocks. Key layout (P = keyPrefix, SEP = "\x1f", a character no
 * name, group or client id may contain):
 *
 * - `P events`               stream: every send (`t=s`), close (`t=c`) and replacement (`t=r`), read by every instance
 * - `P seq`                  counter: the order of client id claims
 * - `P claim:<name>`         hash: client id → `<token>SEP<group>SEP<connected at ms>SEP<'=' last event id, or ''>` (the claim in force)
 * - `P conn:<name>`          zset: client id → presence expiry (ms, Redis clock)
 * - `P grp:<name>SEP<group>` zset: client id → presence expiry
 * - `P groups:<name>`        zset: group → latest expiry of its members
 * - `P names`                zset: name → latest expiry of its connections
 * - `P instances`            zset: instance id → presence expiry (who answers a close)
 * - channel `P reply:<instance id>`: answers to that instance's close requests
 */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

const script = (body: string): LuaScript => {
  const lua = PRELUDE + body;
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
};

// ARGV[1] is always the key prefix.
const PRELUDE = `
local P = ARGV[1]
local SEP = '\\31'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function split(v)
  local i = string.find(v, SEP, 1, true)
  local j = string.find(v, SEP, i + 1, true)
  return string.sub(v, 1, i - 1), string.sub(v, i + 1, (j or 0) - 1)
end
local function alive(key, now)
  return redis.call('ZCOUNT', key, '(' .. now, '+inf')
end
-- How many live members a presence set has; their ids are added to ids when given.
local function members(key, now, ids)
  if not ids then return alive(key, now) end
  local m = redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')
  for _, id in ipairs(m) do ids[#ids + 1] = id end
  return #m
end
local function match(t, now, ids)
  local n = 0
  local seenNames = {}
  for _, name in ipairs(t.n) do
    local ck = P .. 'conn:' .. name
    -- A name listed twice addresses its clients once.
    local repeated = seenNames[name]
    seenNames[name] = true
    if repeated then
      -- counted already
    elseif t.c then
      local seen = {}
      for _, id in ipairs(t.c) do
        if not seen[id] then
          seen[id] = true
          local s = redis.call('ZSCORE', ck, id)
          if s and tonumber(s) > now then
            local ok = true
            if t.g then
              ok = false
              local v = redis.call('HGET', P .. 'claim:' .. name, id)
              if v then
                local _, g = split(v)
                for _, want in ipairs(t.g) do if want == g then ok = true break end end
              end
            end
            if ok then
              n = n + 1
              if ids then ids[#ids + 1] = id end
            end
          end
        end
      end
    elseif t.g then
      local seen = {}
      for _, g in ipairs(t.g) do
        if not seen[g] then
          seen[g] = true
          n = n + members(P .. 'grp:' .. name .. SEP .. g, now, ids)
        end
      end
    else
      n = n + members(ck, now, ids)
    end
  end
  return n
end
local function withdraw(name, id, group, now)
  redis.call('ZREM', P .. 'conn:' .. name, id)
  if group ~= '' then
    local gk = P .. 'grp:' .. name .. SEP .. group
    redis.call('ZREM', gk, id)
    if alive(gk, now) == 0 then redis.call('ZREM', P .. 'groups:' .. name, group) end
  end
  if alive(P .. 'conn:' .. name, now) == 0 then redis.call('ZREM', P .. 'names', name) end
end
local function announce(name, id, group, exp)
  redis.call('ZADD', P .. 'conn:' .. name, exp, id)
  if group ~= '' then
    redis.call('ZADD', P .. 'grp:' .. name .. SEP .. group, exp, id)
    redis.call('ZADD', P .. 'groups:' .. name, 'GT', exp, group)
  end
  redis.call('ZADD', P .. 'names', 'GT', exp, name)
end
`;

/**
 * Claims (or, with a token, re-announces) a connection.
 * ARGV: P, instance id, ttl, name, client id, group ('' = none), token ('' = new claim), events maxlen,
 * details (`<connected at ms>SEP<'=' last event id, or ''>`).
 * Returns {'ok', token} or {'lost', winner token} when a re-announced claim was taken meanwhile.
 */
export const REGISTER = script(`
local instance, ttl, name, id, group, token, maxlen, details = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local now = now_ms()
local ck = P .. 'claim:' .. name
local prev = redis.call('HGET', ck, id)
local prevToken, prevGroup
if prev then prevToken, prevGroup = split(prev) end
if token == '' then
  token = instance .. ':' .. redis.call('INCR', P .. 'seq')
elseif prev and prevToken ~= token then
  return {'lost', prevToken}
end
redis.call('HSET', ck, id, token .. SEP .. group .. SEP .. details)
if prev and prevToken ~= token then
  if prevGroup ~= group then withdraw(name, id, prevGroup, now) end
  -- The earlier claim loses wherever it lives; its instance reads this in order with the sends.
  redis.call('XADD', P .. 'events', 'MAXLEN', '~', maxlen, '*', 't', 'r', 'n', name, 'c', id, 'tok', prevToken)
end
announce(name, id, group, now + ttl)
-- Lazy clean-up of connections whose instance stopped renewing them.
local expired = redis.call('ZRANGEBYSCORE', P .. 'conn:' .. name, '-inf', now, 'LIMIT', 0, 100)
for _, old in ipairs(expired) do
  local v = redis.call('HGET', ck, old)
  if v then
    local _, g = split(v)
    redis.call('HDEL', ck, old)
    withdraw(name, old, g, now)
  else
    redis.call('ZREM', P .. 'conn:' .. name, old)
  end
end
return {'ok', token}
`);

/**
 * Renews this instance's presence and its connections'.
 * ARGV: P, instance id, ttl, then (name, client id, group, token, details) per connection.
 * Returns the 1-based positions of connections whose claim another connection took.
 */
export const HEARTBEAT = script(`
local instance, ttl = ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local exp = now + ttl
redis.call('ZADD', P .. 'instances', exp, instance)
redis.call('ZREMRANGEBYSCORE', P .. 'instances', '-inf', now)
local lost = {}
local i = 4
while i <= #ARGV do
  local name, id, group, token, details = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local ck = P .. 'claim:' .. name
  local prev = redis.call('HGET', ck, id)
  local prevToken = prev and split(prev)
  if prev and prevToken ~= token then
    lost[#lost + 1] = (i - 4) / 5 + 1
  else
    -- Missing after a Redis restart without persistence: announce it again.
    if not prev then redis.call('HSET', ck, id, token .. SEP .. group .. SEP .. details) end
    announce(name, id, group, exp)
  end
  i = i + 5
end
return lost
`);

/** Withdraws a connection if its claim is still in force. ARGV: P, name, client id, token. Returns 1 or 0. */
export const UNREGISTER = script(`
local name, id, token = ARGV[2], ARGV[3], ARGV[4]
local ck = P .. 'claim:' .. name
local prev = redis.call('HGET', ck, id)
if not prev then return 0 end
local prevToken, group = split(prev)
if prevToken ~= token then return 0 end
redis.call('HDEL', ck, id)
withdraw(name, id, group, now_ms())
return 1
`);

/** Removes this instance from those that answer closes. ARGV: P, instance id. */
export const LEAVE = script(`
redis.call('ZREM', P .. 'instances', ARGV[2])
return 1
`);

/**
 * Accepts a send for every instance, unless its deadline (Redis clock) has passed.
 * Events without their own id get `<ms>-<seq>` ids that grow with every send of
 * the cluster (the stream's own id rule: Redis time, then a sequence); the entry
 * id is the last event's id, so event ids and stream order agree.
 * Idempotent per send id: a retry after a lost answer returns the first result
 * instead of sending twice (checked before the deadline, so a retry tells the truth).
 * ARGV: P, deadline ms, events maxlen, send id, ms to remember the send id, target
 * JSON, floor id (the newest entry the sender has read: ids stay above it even if
 * Redis restarted empty on a slower clock), event count, then per event: own id
 * ('' = none, else '=' .. id) and frame text without its id line.
 * Returns {entry id, connections addressed}.
 */
export const PUBLISH = script(`
local sent = P .. 'sent:' .. ARGV[4]
local done = redis.call('HMGET', sent, 'entry', 'addressed')
if done[1] then return {done[1], tonumber(done[2])} end
local now = now_ms()
if now > tonumber(ARGV[2]) then return redis.error_reply('SSEHUB_DEADLINE send not accepted in time') end
local key = P .. 'events'
local ms, seq = now, 0
local function above(id)
  local tms, tseq = string.match(id, '^(%d+)-(%d+)$')
  tms, tseq = tonumber(tms), tonumber(tseq)
  if ms < tms or (ms == tms and seq <= tseq) then ms, seq = tms, tseq + 1 end
end
local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
if top then above(top[1]) end
above(ARGV[7])
local n = tonumber(ARGV[8])
local ids, frames, lengths = {}, {}, {}
for i = 1, n do
  local own, text = ARGV[7 + 2 * i], ARGV[8 + 2 * i]
  local id = own == '' and string.format('%.0f-%.0f', ms, seq + i - 1) or string.sub(own, 2)
  local frame = 'id: ' .. id .. '\\n' .. text
  ids[i], frames[i], lengths[i] = id, frame, #frame
end
local entry = string.format('%.0f-%.0f', ms, seq + n - 1)
redis.call('XADD', key, 'MAXLEN', '~', ARGV[3], entry, 't', 's', 'tg', ARGV[6],
  'ids', table.concat(ids, '\\n'), 'len', table.concat(lengths, ','), 'f', table.concat(frames))
local addressed = match(cjson.decode(ARGV[6]), now, nil)
redis.call('HSET', sent, 'entry', entry, 'addressed', addressed)
redis.call('PEXPIRE', sent, ARGV[5])
return {entry, addressed}
`);

/**
 * Asks every instance to close what the target addresses.
 * ARGV: P, deadline ms, events maxlen, target JSON, instance id to answer, request id.
 * Returns how many instances will answer.
 */
export const CLOSE = script(`
local now = now_ms()
if now > tonumber(ARGV[2]) then return redis.error_reply('SSEHUB_DEADLINE close not accepted in time') end
redis.call('XADD', P .. 'events', 'MAXLEN', '~', ARGV[3], '*', 't', 'c', 'tg', ARGV[4], 'from', ARGV[5], 'rid', ARGV[6])
return alive(P .. 'instances', now)
`);

/**
 * Cluster-wide queries. ARGV: P, mode, argument(s).
 * modes: 'names'; 'groups' (name); 'ids' (target JSON); 'count' (target JSON, or '' for all);
 * 'find' (name, client id: the claim's `<group>SEP<details>` when that connection is open, else nil).
 */
export const QUERY = script(`
local mode, arg = ARGV[2], ARGV[3]
local now = now_ms()
if mode == 'names' then
  return redis.call('ZRANGEBYSCORE', P .. 'names', '(' .. now, '+inf')
elseif mode == 'groups' then
  return redis.call('ZRANGEBYSCORE', P .. 'groups:' .. arg, '(' .. now, '+inf')
elseif mode == 'find' then
  local s = redis.call('ZSCORE', P .. 'conn:' .. arg, ARGV[4])
  if not s or tonumber(s) <= now then return nil end
  local v = redis.call('HGET', P .. 'claim:' .. arg, ARGV[4])
  if not v then return nil end
  local i = string.find(v, SEP, 1, true)
  return string.sub(v, i + 1)
elseif mode == 'ids' then
  local ids = {}
  match(cjson.decode(arg), now, ids)
  return ids
elseif arg == '' then
  local n = 0
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', P .. 'names', '(' .. now, '+inf')) do
    n = n + alive(P .. 'conn:' .. name, now)
  end
  return n
else
  return match(cjson.decode(arg), now, nil)
end
`);
