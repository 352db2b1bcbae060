import { createHash } from 'node:crypto';

/**
 * The Lua scripts of `RedisTransport`. Each runs atomically on the shard of
 * one name, on Redis's clock (`TIME`), and declares every key it touches
 * (all of one name, under one hash tag: see redis-keys.ts). `ARGV[1]` is
 * always the name's key base (`<prefix>{<name>}:`), from which channels are
 * named. SEP (`\x1f`) and GSEP (`\x1e`) are characters no name, group, user
 * or client id may contain.
 *
 * A record (a send, or a close/join/leave/replacement) travels as one header
 * line of JSON, `\n`, then the frames of its events back to back: the same
 * bytes are published on the topics' channels and kept in their streams.
 */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

const script = (body: string): LuaScript => {
  const lua = PRELUDE + body;
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
};

const PRELUDE = `
local BASE = ARGV[1]
local SEP = '\\31'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function id_of(s)
  local ms, seq = string.match(s, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function cmp(a, b)
  local am, as = id_of(a)
  local bm, bs = id_of(b)
  if am ~= bm then return am < bm and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
local function fmt(ms, seq) return string.format('%.0f-%.0f', ms, seq) end
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
local function live(key, now)
  return redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')
end
local function member_key(kind, value) return BASE .. 'm:' .. kind .. ':' .. value end
-- True when the claim of a live connection passes the target's user and group filters.
local function passes(t, id)
  local v = redis.call('HGET', BASE .. 'claim', id)
  if not v then return false end
  local _, user, groups = claim_of(v)
  if t.u and not includes(t.u, user) then return false end
  if t.g and not shares_any(t.g, list_of(groups)) then return false end
  return true
end
-- The addressing rule of sse-target.ts (isAddressedTo) over one name's presence:
-- the most selective set gives the candidates, filtered where that set alone does not answer.
local function match(t, now, ids)
  local candidates, filter = nil, false
  if t.c then
    candidates, filter = {}, (t.u or t.g) and true
    for _, id in ipairs(t.c) do
      local s = redis.call('ZSCORE', BASE .. 'conn', id)
      if s and tonumber(s) > now then candidates[#candidates + 1] = id end
    end
  elseif t.u then
    candidates, filter = {}, t.g and true
    for _, user in ipairs(t.u) do
      for _, id in ipairs(live(member_key('u', user), now)) do candidates[#candidates + 1] = id end
    end
  elseif t.g and #t.g ~= 1 then
    candidates = {}
    local seen = {}
    for _, g in ipairs(t.g) do
      for _, id in ipairs(live(member_key('g', g), now)) do
        if not seen[id] then
          seen[id] = true
          candidates[#candidates + 1] = id
        end
      end
    end
  else
    local key = t.g and member_key('g', t.g[1]) or BASE .. 'conn'
    if not ids then return redis.call('ZCOUNT', key, '(' .. now, '+inf') end
    candidates = live(key, now)
  end
  local n = 0
  for _, id in ipairs(candidates) do
    if not filter or passes(t, id) then
      n = n + 1
      if ids then ids[#ids + 1] = id end
    end
  end
  return n
end
`;

/**
 * Applies one instance's batch for one name, in order: sends (ids decided
 * here, kept in their topics' streams, published on their topics' channels)
 * and closes, joins and leaves (published on the name's channel). Nothing is
 * written before every check passed, and a retry of an applied batch gets the
 * first answer back (idempotent).
 * KEYS: meta, done, drop hash, connections, claims, app ids (hash), app ids by age (zset),
 *   latest entries (hash: topic SEP event type → stream id), then the streams and presence sets the batch names.
 * ARGV: base, deadline ms, history size, trim slack, history ttl ms, ms to keep the answer,
 *   op count, then per op:
 *   's', target JSON, topic count, (topic, stream key index) per topic, replay modes (one letter
 *     per event: 'a' kept, 'n' never stored, 'l' only the latest of its type; '' = all kept),
 *     event count, (own id or '', text) per event;
 *   'c' | 'x' | 'j' | 'l', target JSON, request id (JSON string), instance to answer (JSON string), groups JSON, replay count.
 * Returns the answer: per op, how many connections a send addressed, or how many instances will answer a command.
 */
export const SEND = script(`
local done = redis.call('GET', KEYS[2])
if done then return cjson.decode(done) end
local now = now_ms()
if now > tonumber(ARGV[2]) then return redis.error_reply('SSEHUB_DEADLINE batch not accepted in time') end
local size, slack, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

-- The epoch: it changes with the master (a failover may have lost acknowledged sends), so
-- an id a client holds from before names an epoch the history can tell apart.
local info = redis.call('INFO', 'replication')
local rid = string.sub(string.match(info, 'master_replid:(%w+)'), 1, 8)
local meta = redis.call('HMGET', KEYS[1], 'ms', 'seq', 'ep', 'rid')
local last_ms, last_seq = tonumber(meta[1]) or 0, tonumber(meta[2]) or -1
local ep = meta[3]
if not ep then
  ep = rid
elseif meta[4] ~= rid then
  redis.call('HSET', KEYS[1], 'pep', ep, 'plast', fmt(last_ms, math.max(last_seq, 0)))
  ep = rid
end
local function next_order()
  if now > last_ms then last_ms, last_seq = now, 0 else last_seq = last_seq + 1 end
  return fmt(last_ms, last_seq)
end
-- Checked before anything is written: a stream ahead of the sequence (it cannot happen, but an
-- XADD refused halfway would leave a half-applied batch) moves the sequence past it.
for k = 9, #KEYS do
  if string.sub(KEYS[k], #BASE + 1, #BASE + 2) == 's:' then
    local top = redis.call('XREVRANGE', KEYS[k], '+', '-', 'COUNT', 1)[1]
    if top then
      local ms, seq = id_of(top[1])
      if ms > last_ms or (ms == last_ms and seq > last_seq) then last_ms, last_seq = ms, seq end
    end
  end
end

-- A send's header: its order ids, ids, frame lengths and target (and replay modes when any is not 'a').
local function header_of(target, orders, ids, lens, modes_field)
  return '{"t":"s","o":"' .. orders[#orders] .. '","os":' .. cjson.encode(orders) .. ',"ids":' .. cjson.encode(ids) ..
    ',"len":[' .. table.concat(lens, ',') .. ']' .. modes_field .. ',"tg":' .. target .. '}'
end
local function slice(list, first, last)
  local out = {}
  for k = first, last do out[#out + 1] = list[k] end
  return out
end
-- Keeps an entry in a topic's stream, trimmed to the history size (with some slack, so that
-- trimming is amortized) while noting the newest entry it dropped.
local function store(key, topic, o, header, body)
  redis.call('XADD', key, o, 'h', header, 'f', body)
  redis.call('PEXPIRE', key, ttl * 2)
  local len = redis.call('XLEN', key)
  if len > size + slack then
    local extra = redis.call('XRANGE', key, '-', '+', 'COUNT', len - size)
    local newest = extra[#extra][1]
    local ms, seq = id_of(newest)
    redis.call('XTRIM', key, 'MINID', fmt(ms, seq + 1))
    redis.call('HSET', KEYS[3], topic, newest)
  end
end

local answers = {}
local i = 8
for op = 1, tonumber(ARGV[7]) do
  local kind = ARGV[i]
  if kind == 's' then
    local target = ARGV[i + 1]
    local ntopics = tonumber(ARGV[i + 2])
    local topics_at = i + 3
    local modes = ARGV[topics_at + 2 * ntopics]
    local j = topics_at + 2 * ntopics + 1
    local nevents = tonumber(ARGV[j])
    local ids, orders, lens, frames = {}, {}, {}, {}
    for e = 1, nevents do
      local own, text = ARGV[j + 2 * e - 1], ARGV[j + 2 * e]
      local order = next_order()
      local id = own ~= '' and own or (order .. '.' .. ep)
      if own ~= '' then
        -- An id the app chose is found again by lookup (for as long as history keeps events).
        redis.call('HSET', KEYS[6], own, order)
        redis.call('ZADD', KEYS[7], now, own)
      end
      local frame = 'id: ' .. id .. '\\n' .. text
      ids[e], orders[e], lens[e], frames[e] = id, order, #frame, frame
    end
    local modes_field = modes ~= '' and (',"m":"' .. modes .. '"') or ''
    -- Published whole: every event goes live, whatever its replay mode.
    local payload = header_of(target, orders, ids, lens, modes_field) .. '\\n' .. table.concat(frames)
    for k = 0, ntopics - 1 do redis.call('SPUBLISH', BASE .. 'ch:' .. ARGV[topics_at + 2 * k], payload) end
    -- Kept per topic: runs of ordinary events as one entry, each 'latest' event alone (it replaces
    -- the previous one of its type), 'none' events not at all.
    local function keep(first, last, latest_type)
      local o = orders[last]
      local header = header_of(target, slice(orders, first, last), slice(ids, first, last), slice(lens, first, last), '')
      local body = table.concat(frames, '', first, last)
      for k = 0, ntopics - 1 do
        local topic, key = ARGV[topics_at + 2 * k], KEYS[tonumber(ARGV[topics_at + 2 * k + 1])]
        if size > 0 then
          if latest_type then
            local field = topic .. SEP .. latest_type
            local previous = redis.call('HGET', KEYS[8], field)
            if previous then redis.call('XDEL', key, previous) end
            redis.call('HSET', KEYS[8], field, o)
          end
          store(key, topic, o, header, body)
        else
          redis.call('HSET', KEYS[3], topic, o)
        end
      end
    end
    local run = nil
    for e = 1, nevents do
      local mode = string.sub(modes, e, e)
      if mode == 'a' or mode == '' then
        run = run or e
      else
        if run then keep(run, e - 1, nil) end
        run = nil
        if mode == 'l' then keep(e, e, string.match(frames[e], '\\nevent: ([^\\n]*)\\n') or 'message') end
      end
    end
    if run then keep(run, nevents, nil) end
    if ntopics > 0 then
      redis.call('PEXPIRE', KEYS[3], ttl * 2)
      if size > 0 then redis.call('PEXPIRE', KEYS[8], ttl * 2) end
    end
    answers[op] = match(cjson.decode(target), now, nil)
    i = j + 2 * nevents + 1
  else
    -- Built from the JSON the sender made: cjson would turn an empty list into an object.
    local header = '{"t":"' .. kind .. '","tg":' .. ARGV[i + 1] .. ',"rid":' .. ARGV[i + 2] .. ',"from":' .. ARGV[i + 3] ..
      ',"gs":' .. ARGV[i + 4] .. ',"rp":' .. tonumber(ARGV[i + 5]) .. '}'
    answers[op] = redis.call('SPUBLISH', BASE .. 'ch:n', header .. '\\n')
    i = i + 6
  end
end
if redis.call('EXISTS', KEYS[7]) == 1 then
  for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now - ttl, 'LIMIT', 0, 256)) do redis.call('HDEL', KEYS[6], old) end
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - ttl)
  redis.call('PEXPIRE', KEYS[6], ttl * 2)
  redis.call('PEXPIRE', KEYS[7], ttl * 2)
end
redis.call('HSET', KEYS[1], 'ms', last_ms, 'seq', last_seq, 'ep', ep, 'rid', rid)
redis.call('PEXPIRE', KEYS[1], math.max(ttl * 2, 86400000))
redis.call('SET', KEYS[2], cjson.encode(answers), 'PX', ARGV[6])
return answers
`);

/**
 * What a reconnecting connection missed, from its topics' streams.
 * KEYS: meta, drop hash, app ids (hash), then one stream per topic (in the order of the topics in ARGV).
 * ARGV: base, history size, history ttl ms, position kind ('o': an id this transport made,
 *   'a': an id the app chose, 'x': none known, 'r': an order id as it is), position order id ('ms-seq'), position epoch,
 *   the app's id, topic count, topics.
 * Returns {position order id or '', per topic: {lost (0/1), entries as {stream id, header, frames}...}}.
 */
export const REPLAY = script(`
local size, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local kind, pos, pep_given, app_id = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local ntopics = tonumber(ARGV[8])
local now = now_ms()
local minid = string.format('%.0f-0', now - ttl)
local meta = redis.call('HMGET', KEYS[1], 'ep', 'pep', 'plast', 'ms', 'seq')
-- 'r': a catch-up from an order id this instance handed on, whatever the epoch.
if kind == 'r' then
  kind, pep_given = 'o', meta[1]
end
-- Up to date: nothing was sent to the name since, even when its topics expired meanwhile.
if kind == 'o' and pep_given == meta[1] and meta[4] and cmp(pos, fmt(tonumber(meta[4]), tonumber(meta[5]))) >= 0 then
  local empty = { pos }
  for k = 1, ntopics do empty[#empty + 1] = { 0, {} } end
  return empty
end
if kind == 'o' then
  -- An id of a retired epoch is trusted up to that epoch's last id; past it, or of an unknown epoch, it is not.
  if pep_given ~= meta[1] and not (pep_given == meta[2] and cmp(pos, meta[3]) <= 0) then kind = 'x' end
elseif kind == 'a' then
  local order = redis.call('HGET', KEYS[3], app_id)
  if order then kind, pos = 'o', order else kind = 'x' end
end
local result = { kind == 'o' and pos or '' }
for k = 1, ntopics do
  local key = KEYS[3 + k]
  local lost, entries = 0, {}
  if redis.call('EXISTS', key) == 0 then
    -- Missing: never written, or idle for twice the ttl (a write refreshes its expiry), so
    -- nothing was written after a position younger than that.
    local ms = id_of(pos ~= '' and pos or '0-0')
    if kind ~= 'o' or ms < now - 2 * ttl then lost = 1 end
  else
    local got
    if kind == 'o' then
      got = redis.call('XREVRANGE', key, '+', '(' .. pos, 'COUNT', size + 1)
      if #got > size then
        lost = 1
        got[#got] = nil
      end
      local dropped = redis.call('HGET', KEYS[2], ARGV[8 + k])
      if dropped and cmp(dropped, pos) > 0 then lost = 1 end
    else
      lost = 1
      got = redis.call('XREVRANGE', key, '+', '-', 'COUNT', size)
    end
    for _, entry in ipairs(got) do
      if cmp(entry[1], minid) < 0 then
        lost = 1
      else
        entries[#entries + 1] = entry[1]
        entries[#entries + 1] = entry[2][2]
        entries[#entries + 1] = entry[2][4]
      end
    end
  end
  result[#result + 1] = { lost, entries }
end
return result
`);

/**
 * The newest entries of one topic (a join's replay). KEYS: the stream. ARGV: base, count, ttl ms.
 * Returns {stream id, header, frames}..., newest first.
 */
export const RECENT = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local minid = string.format('%.0f-0', now_ms() - tonumber(ARGV[3]))
return redis.call('XREVRANGE', KEYS[1], '+', minid, 'COUNT', tonumber(ARGV[2]))
`);

/**
 * Presence of one name, in a batch: claims, renewals, withdrawals and group changes.
 * KEYS: claims, connections, groups, then the member sets the batch names.
 * ARGV: base, instance id, presence ttl ms, op count, then per op:
 *   'claim', client id, user, groups (GSEP), token ('' = new), details;
 *   'renew', client id, user, groups, token, details;
 *   'drop', client id, token;
 *   'regroup', client id, token, groups.
 * A later claim of a client id wins: the earlier one's instance hears a replacement on the
 * name's channel. Returns per op: {status, token} for claims ('ok' or 'lost'), 1/0 otherwise.
 */
export const PRESENCE = script(`
local instance, ttl = ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local exp = now + ttl
local function announce(id, user, groups)
  redis.call('ZADD', KEYS[2], exp, id)
  for _, g in ipairs(groups) do
    redis.call('ZADD', member_key('g', g), exp, id)
    redis.call('ZADD', KEYS[3], 'GT', exp, g)
    redis.call('PEXPIRE', member_key('g', g), ttl * 2)
  end
  if user ~= '' then
    redis.call('ZADD', member_key('u', user), exp, id)
    redis.call('PEXPIRE', member_key('u', user), ttl * 2)
  end
end
local function withdraw(id, user, groups)
  redis.call('ZREM', KEYS[2], id)
  for _, g in ipairs(groups) do
    local key = member_key('g', g)
    redis.call('ZREM', key, id)
    if redis.call('ZCOUNT', key, '(' .. now, '+inf') == 0 then redis.call('ZREM', KEYS[3], g) end
  end
  if user ~= '' then redis.call('ZREM', member_key('u', user), id) end
end
local function set_claim(id, token, user, groups, details, before)
  local kept = list_of(groups)
  for _, g in ipairs(list_of(before)) do
    if not includes(kept, g) then withdraw(id, '', { g }) end
  end
  redis.call('HSET', KEYS[1], id, token .. SEP .. user .. SEP .. groups .. SEP .. details)
  announce(id, user, kept)
end
local answers = {}
local i = 5
for op = 1, tonumber(ARGV[4]) do
  local kind, id = ARGV[i], ARGV[i + 1]
  local prev = redis.call('HGET', KEYS[1], id)
  local prev_token, prev_user, prev_groups
  if prev then prev_token, prev_user, prev_groups = claim_of(prev) end
  if kind == 'claim' or kind == 'renew' then
    local user, groups, token, details = ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
    if kind == 'claim' and token == '' then token = instance .. ':' .. redis.call('HINCRBY', KEYS[1], SEP, 1) end
    if prev and prev_token ~= token and not (kind == 'claim' and ARGV[i + 4] == '') then
      answers[op] = { 'lost', prev_token }
    else
      if prev and prev_token ~= token then
        withdraw(id, prev_user, list_of(prev_groups))
        -- The earlier claim loses wherever it lives: its instance hears it on the name's channel.
        redis.call('SPUBLISH', BASE .. 'ch:n', cjson.encode({ t = 'r', c = id, tok = prev_token }) .. '\\n')
      end
      set_claim(id, token, user, groups, details, (prev and prev_token == token) and prev_groups or '')
      answers[op] = { 'ok', token }
    end
    i = i + 6
  elseif kind == 'drop' then
    if prev and prev_token == ARGV[i + 2] then
      redis.call('HDEL', KEYS[1], id)
      withdraw(id, prev_user, list_of(prev_groups))
      answers[op] = 1
    else
      answers[op] = 0
    end
    i = i + 3
  else
    if prev and prev_token == ARGV[i + 2] then
      local _, _, _, details = claim_of(prev)
      set_claim(id, prev_token, prev_user, ARGV[i + 3], details, prev_groups)
      answers[op] = 1
    else
      answers[op] = 0
    end
    i = i + 4
  end
end
-- Claims of connections whose instance stopped renewing them go, a few at a time.
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('HDEL', KEYS[1], old)
  redis.call('ZREM', KEYS[2], old)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
for _, key in ipairs({ KEYS[1], KEYS[2], KEYS[3] }) do redis.call('PEXPIRE', key, ttl * 2) end
return answers
`);

/**
 * Cluster-wide questions about one name. KEYS: claims, connections, groups, then the member
 * sets the target names. ARGV: base, mode, argument: 'count' / 'ids' (target JSON),
 * 'groups', 'find' (client id: the claim's `<user>SEP<groups>SEP<details>` while open, else nil).
 */
export const QUERY = script(`
local mode, arg = ARGV[2], ARGV[3]
local now = now_ms()
if mode == 'groups' then
  return redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. now, '+inf')
elseif mode == 'find' then
  local s = redis.call('ZSCORE', KEYS[2], arg)
  if not s or tonumber(s) <= now then return nil end
  local v = redis.call('HGET', KEYS[1], arg)
  if not v then return nil end
  local i = string.find(v, SEP, 1, true)
  return string.sub(v, i + 1)
elseif mode == 'ids' then
  local ids = {}
  match(cjson.decode(arg), now, ids)
  return ids
end
return match(cjson.decode(arg), now, nil)
`);
