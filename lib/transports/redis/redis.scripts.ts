import { createHash } from 'node:crypto';

/**
 * The Lua scripts of `RedisTransport`. Each runs atomically in Redis, on Redis's
 * clock (`TIME`), so presence expiry and claim order never depend on the
 * instances' clocks. Key layout (P = keyPrefix, SEP = "\x1f" and GSEP = "\x1e",
 * characters no name, group, user or client id may contain):
 *
 * - `P events`               stream: every send (`t=s`), close (`t=c`; `t=x` for good), join (`t=j`), leave (`t=l`) and replacement (`t=r`), read by every instance
 * - `P seq`                  counter: the order of client id claims
 * - `P claim:<name>`         hash: client id → `<token>SEP<user or ''>SEP<groups joined by GSEP>SEP<connected at ms>SEP<'=' last event id, or ''>` (the claim in force)
 * - `P conn:<name>`          zset: client id → presence expiry (ms, Redis clock)
 * - `P grp:<name>SEP<group>` zset: client id → presence expiry
 * - `P usr:<name>SEP<user>`  zset: client id → presence expiry
 * - `P groups:<name>`        zset: group → latest expiry of its members
 * - `P names`                zset: name → latest expiry of its connections
 * - `P instances`            zset: instance id → presence expiry (who answers a close, join or leave)
 * - `P stop:<name>SEP<key>`  string with an expiry: a client id (`c:…`) or stop token (`t:…`) stopped for good (plain SET / EXISTS, no script)
 * - channel `P reply:<instance id>`: answers to that instance's close, join and leave requests
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
-- A claim's parts: token, user ('' = none), groups (GSEP-joined), details.
local function claim_of(v)
  local a = string.find(v, SEP, 1, true)
  local b = string.find(v, SEP, a + 1, true)
  local c = string.find(v, SEP, b + 1, true)
  return string.sub(v, 1, a - 1), string.sub(v, a + 1, b - 1), string.sub(v, b + 1, c - 1), string.sub(v, c + 1)
end
local function list_of(s)
  local out = {}
  for item in string.gmatch(s, '[^\\30]+') do out[#out + 1] = item end
  return out
end
local function includes(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end
local function shares_any(wanted, held)
  for _, h in ipairs(held) do if includes(wanted, h) then return true end end
  return false
end
local function alive(key, now)
  return redis.call('ZCOUNT', key, '(' .. now, '+inf')
end
local function live(key, now)
  return redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')
end
-- How many live members a presence set has; their ids are added to ids when given.
local function members(key, now, ids)
  if not ids then return alive(key, now) end
  local m = live(key, now)
  for _, id in ipairs(m) do ids[#ids + 1] = id end
  return #m
end
-- True when the claim of a live connection passes the target's user and group filters.
local function passes(t, name, id)
  local v = redis.call('HGET', P .. 'claim:' .. name, id)
  if not v then return false end
  local _, user, groups = claim_of(v)
  if t.u and not includes(t.u, user) then return false end
  if t.g and not shares_any(t.g, list_of(groups)) then return false end
  return true
end
-- The addressing rule of sse-target.ts (isAddressedTo), over presence: the most
-- selective set gives the candidates, filtered where that set alone does not answer.
local function match(t, now, ids)
  local n = 0
  local seenNames = {}
  for _, name in ipairs(t.n) do
    if not seenNames[name] then
      seenNames[name] = true
      local candidates, filter = nil, false
      if t.c then
        candidates, filter = {}, (t.u or t.g) and true
        local ck = P .. 'conn:' .. name
        for _, id in ipairs(t.c) do
          local s = redis.call('ZSCORE', ck, id)
          if s and tonumber(s) > now then candidates[#candidates + 1] = id end
        end
      elseif t.u then
        candidates, filter = {}, t.g and true
        for _, user in ipairs(t.u) do
          for _, id in ipairs(live(P .. 'usr:' .. name .. SEP .. user, now)) do candidates[#candidates + 1] = id end
        end
      elseif t.g and #t.g ~= 1 then
        candidates = {}
        local seen = {}
        for _, g in ipairs(t.g) do
          for _, id in ipairs(live(P .. 'grp:' .. name .. SEP .. g, now)) do
            if not seen[id] then
              seen[id] = true
              candidates[#candidates + 1] = id
            end
          end
        end
      elseif t.g then
        n = n + members(P .. 'grp:' .. name .. SEP .. t.g[1], now, ids)
      else
        n = n + members(P .. 'conn:' .. name, now, ids)
      end
      for _, id in ipairs(candidates or {}) do
        if not filter or passes(t, name, id) then
          n = n + 1
          if ids then ids[#ids + 1] = id end
        end
      end
    end
  end
  return n
end
local function withdraw_group(name, id, group, now)
  local gk = P .. 'grp:' .. name .. SEP .. group
  redis.call('ZREM', gk, id)
  if alive(gk, now) == 0 then redis.call('ZREM', P .. 'groups:' .. name, group) end
end
local function withdraw(name, id, user, groups, now)
  redis.call('ZREM', P .. 'conn:' .. name, id)
  for _, group in ipairs(groups) do withdraw_group(name, id, group, now) end
  if user ~= '' then redis.call('ZREM', P .. 'usr:' .. name .. SEP .. user, id) end
  if alive(P .. 'conn:' .. name, now) == 0 then redis.call('ZREM', P .. 'names', name) end
end
local function announce(name, id, user, groups, exp)
  redis.call('ZADD', P .. 'conn:' .. name, exp, id)
  for _, group in ipairs(groups) do
    redis.call('ZADD', P .. 'grp:' .. name .. SEP .. group, exp, id)
    redis.call('ZADD', P .. 'groups:' .. name, 'GT', exp, group)
  end
  if user ~= '' then redis.call('ZADD', P .. 'usr:' .. name .. SEP .. user, exp, id) end
  redis.call('ZADD', P .. 'names', 'GT', exp, name)
end
-- Writes a claim in force (token kept) with these groups, withdrawing from the groups it left.
local function set_groups(name, id, token, user, groups, details, before, exp, now)
  local kept = list_of(groups)
  for _, group in ipairs(list_of(before)) do
    if not includes(kept, group) then withdraw_group(name, id, group, now) end
  end
  redis.call('HSET', P .. 'claim:' .. name, id, token .. SEP .. user .. SEP .. groups .. SEP .. details)
  announce(name, id, user, kept, exp)
end
`;

/**
 * Claims (or, with a token, re-announces) a connection.
 * ARGV: P, instance id, ttl, name, client id, user ('' = none), groups (GSEP-joined), token ('' = new claim),
 * events maxlen, details (`<connected at ms>SEP<'=' last event id, or ''>`).
 * Returns {'ok', token} or {'lost', winner token} when a re-announced claim was taken meanwhile.
 */
export const REGISTER = script(`
local instance, ttl, name, id, user, groups, token, maxlen, details = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local now = now_ms()
local ck = P .. 'claim:' .. name
local prev = redis.call('HGET', ck, id)
local prevToken, prevUser, prevGroups
if prev then prevToken, prevUser, prevGroups = claim_of(prev) end
if token == '' then
  token = instance .. ':' .. redis.call('INCR', P .. 'seq')
elseif prev and prevToken ~= token then
  return {'lost', prevToken}
end
if prev and prevToken ~= token then
  withdraw(name, id, prevUser, list_of(prevGroups), now)
  -- The earlier claim loses wherever it lives; its instance reads this in order with the sends.
  redis.call('XADD', P .. 'events', 'MAXLEN', '~', maxlen, '*', 't', 'r', 'n', name, 'c', id, 'tok', prevToken)
end
set_groups(name, id, token, user, groups, details, (prev and prevToken == token) and prevGroups or '', now + ttl, now)
-- Lazy clean-up of connections whose instance stopped renewing them.
local expired = redis.call('ZRANGEBYSCORE', P .. 'conn:' .. name, '-inf', now, 'LIMIT', 0, 100)
for _, old in ipairs(expired) do
  local v = redis.call('HGET', ck, old)
  if v then
    local _, u, g = claim_of(v)
    redis.call('HDEL', ck, old)
    withdraw(name, old, u, list_of(g), now)
  else
    redis.call('ZREM', P .. 'conn:' .. name, old)
  end
end
return {'ok', token}
`);

/**
 * Changes the groups of a claim still in force. ARGV: P, ttl, name, client id, token, groups (GSEP-joined).
 * Returns 1, or 0 when another claim took it.
 */
export const REGROUP = script(`
local ttl, name, id, token, groups = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local prev = redis.call('HGET', P .. 'claim:' .. name, id)
if not prev then return 0 end
local prevToken, user, before, details = claim_of(prev)
if prevToken ~= token then return 0 end
local now = now_ms()
set_groups(name, id, token, user, groups, details, before, now + ttl, now)
return 1
`);

/**
 * Renews this instance's presence and its connections'.
 * ARGV: P, instance id, ttl, then (name, client id, user, groups, token, details) per connection.
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
  local name, id, user, groups, token, details = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local prev = redis.call('HGET', P .. 'claim:' .. name, id)
  local prevToken, _, prevGroups
  if prev then prevToken, _, prevGroups = claim_of(prev) end
  if prev and prevToken ~= token then
    lost[#lost + 1] = (i - 4) / 6 + 1
  else
    -- Missing after a Redis restart without persistence: announced again, with the groups it has now.
    set_groups(name, id, token, user, groups, details, prevGroups or '', exp, now)
  end
  i = i + 6
end
return lost
`);

/** Withdraws a connection if its claim is still in force. ARGV: P, name, client id, token. Returns 1 or 0. */
export const UNREGISTER = script(`
local name, id, token = ARGV[2], ARGV[3], ARGV[4]
local ck = P .. 'claim:' .. name
local prev = redis.call('HGET', ck, id)
if not prev then return 0 end
local prevToken, user, groups = claim_of(prev)
if prevToken ~= token then return 0 end
redis.call('HDEL', ck, id)
withdraw(name, id, user, list_of(groups), now_ms())
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
 * ('' = none, else '=' .. id) and frame text without its id line; last, the
 * replay modes (one letter per event, see redis-stream.codec.ts; '' when all are kept),
 * stored as field `m` when not empty.
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
local fields = {'t', 's', 'tg', ARGV[6], 'ids', table.concat(ids, '\\n'), 'len', table.concat(lengths, ','), 'f', table.concat(frames)}
local modes = ARGV[9 + 2 * n]
if modes and modes ~= '' then
  fields[#fields + 1] = 'm'
  fields[#fields + 1] = modes
end
redis.call('XADD', key, 'MAXLEN', '~', ARGV[3], entry, unpack(fields))
local addressed = match(cjson.decode(ARGV[6]), now, nil)
redis.call('HSET', sent, 'entry', entry, 'addressed', addressed)
redis.call('PEXPIRE', sent, ARGV[5])
return {entry, addressed}
`);

/**
 * Asks every instance to close (`c`), join (`j`) or leave (`l`) what the target addresses.
 * ARGV: P, deadline ms, events maxlen, type, target JSON, instance id to answer, request id,
 * groups (GSEP-joined, for j and l), replay count (for j).
 * Returns how many instances will answer.
 */
export const COMMAND = script(`
local now = now_ms()
if now > tonumber(ARGV[2]) then return redis.error_reply('SSEHUB_DEADLINE command not accepted in time') end
redis.call('XADD', P .. 'events', 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[4], 'tg', ARGV[5], 'from', ARGV[6], 'rid', ARGV[7], 'gs', ARGV[8], 'rp', ARGV[9])
return alive(P .. 'instances', now)
`);

/**
 * Cluster-wide queries. ARGV: P, mode, argument(s).
 * modes: 'names'; 'groups' (name); 'ids' (target JSON); 'count' (target JSON, or '' for all);
 * 'find' (name, client id: the claim's `<user>SEP<groups>SEP<details>` when that connection is open, else nil).
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
