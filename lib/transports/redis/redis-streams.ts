import { createHash } from 'node:crypto';
import { RedisNameKeys } from './redis-keys.js';
import { SseTransportError } from '../../errors/sse-transport.error.js';
import { SseMessages } from '../../sse.messages.js';
import type { RedisLink } from './redis-link.js';
import type { LuaScript } from './redis.scripts.js';
import type { SseStreamFollowing, SseStreamListener, SseStreamStore } from '../../interfaces/sse-stream-store.interface.js';

const lua = (body: string): LuaScript => ({ lua: body, sha: createHash('sha1').update(body).digest('hex') });

// A recording is one list: `o<owner>` first, then `f<frame>` per event, then `e<last frame>`.
// Its channel carries `f<n>\n<frame>` (the n-th frame), `e<last frame>` and `x` (a stop request).

/** KEYS: recording. ARGV: owner, ms to keep. 1 when claimed, 0 when taken. */
const CREATE = lua(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[1], 'o' .. ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** KEYS: recording. ARGV: channel, ms to keep, frames… Records and publishes them, numbered. */
const APPEND = lua(`
local n = redis.call('LLEN', KEYS[1])
if n == 0 then return 0 end
if string.sub(redis.call('LINDEX', KEYS[1], -1), 1, 1) == 'e' then return 0 end
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[1], 'f' .. ARGV[i])
  redis.call('SPUBLISH', ARGV[1], 'f' .. (n + i - 3) .. '\\n' .. ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** KEYS: recording. ARGV: channel, ms to keep, last frame. */
const FINISH = lua(`
local n = redis.call('LLEN', KEYS[1])
if n == 0 then return 0 end
if string.sub(redis.call('LINDEX', KEYS[1], -1), 1, 1) == 'e' then return 0 end
redis.call('RPUSH', KEYS[1], 'e' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SPUBLISH', ARGV[1], 'e' .. ARGV[3])
return 1
`);

/** What the transport lends the store. */
export interface RedisStreamsHost {
  link(): RedisLink | undefined;
  readonly prefix: string;
  readonly instanceId: string;
  /** Milliseconds a silent instance stays present: a running stream's recording is kept at least this long past its ttl. */
  readonly presenceTtl: number;
  /** True while the instance renews its presence. */
  isAlive(instanceId: string): Promise<boolean>;
  /** Runs background work, never letting it throw. */
  background(work: Promise<unknown>): void;
}

/** A follower on this instance. */
interface Follower {
  readonly listener: SseStreamListener;
  /** Frames it has (from the recording and live); a message numbered at most this is a duplicate. */
  have: number;
  /** Messages heard before its recording was read. */
  held: Buffer[] | undefined;
  owner: string;
}

/** A stream that runs here: what waits to be written, in order (one script call at a time per stream). */
interface Owned {
  readonly ttl: number;
  queue: Buffer[];
  last: Buffer | undefined;
  busy: boolean;
}

/** A stream channel this instance listens to: for the stream it runs, or its followers here. */
interface Channel {
  readonly key: string;
  readonly name: string;
  readonly streamId: string;
  /** Running here: this instance answers its stop requests and keeps its recording from expiring. */
  owned: Owned | undefined;
  readonly followers: Set<Follower>;
  readonly subscribed: Promise<unknown>;
}

/**
 * Resumable streams in Redis (`RedisTransport.streams`): one list per stream
 * on its name's shard, written by the instance that runs it, and a sharded
 * channel per stream that followers anywhere subscribe to before they read
 * the list (duplicates are dropped by frame number). Stop requests travel on
 * the same channel to the instance that runs the stream; a follower whose
 * stream's instance stopped renewing its presence is told `lost`.
 */
export class RedisStreams implements SseStreamStore {
  private readonly channels = new Map<string, Channel>();
  private stopHandler: ((name: string, streamId: string) => void) | undefined;
  private listening = false;

  constructor(private readonly host: RedisStreamsHost) {}

  onStop(handler: (name: string, streamId: string) => void): void {
    this.stopHandler = handler;
  }

  async create(name: string, streamId: string, ttlMs: number): Promise<boolean> {
    const keys = this.keysOf(name);
    const link = this.requireLink();
    const claimed = (await link.run(CREATE, [keys.recording(streamId)], [this.host.instanceId, this.keepFor(ttlMs)])) === 1;
    if (claimed) this.channelOf(name, streamId).owned = { ttl: ttlMs, queue: [], last: undefined, busy: false };
    return claimed;
  }

  append(name: string, streamId: string, frames: readonly Buffer[]): void {
    const channel = this.channels.get(this.keysOf(name).recordingChannel(streamId));
    if (!channel?.owned) return;
    channel.owned.queue.push(...frames);
    this.write(channel, channel.owned);
  }

  finish(name: string, streamId: string, frame: Buffer): void {
    const channel = this.channels.get(this.keysOf(name).recordingChannel(streamId));
    if (!channel?.owned) return;
    channel.owned.last = frame;
    this.write(channel, channel.owned);
  }

  /**
   * Writes what waits, one script call at a time: in order whatever the
   * connection does (a script reloaded after NOSCRIPT would be sent after
   * later calls), and a producer faster than the round trip sends its frames
   * in batches.
   */
  private write(channel: Channel, owned: Owned): void {
    if (owned.busy) return;
    const link = this.host.link();
    const keys = this.keysOf(channel.name);
    const key = keys.recording(channel.streamId);
    let writing: Promise<unknown>;
    if (owned.queue.length > 0) {
      const frames = owned.queue.splice(0);
      writing = link ? link.run(APPEND, [key], [channel.key, this.keepFor(owned.ttl), ...frames]) : Promise.resolve();
    } else if (owned.last) {
      const last = owned.last;
      owned.last = undefined;
      writing = link ? link.run(FINISH, [key], [channel.key, owned.ttl, last]) : Promise.resolve();
      writing = writing.finally(() => {
        channel.owned = undefined;
        this.release(channel);
      });
    } else return;
    owned.busy = true;
    this.host.background(
      writing.finally(() => {
        owned.busy = false;
        if (channel.owned === owned) this.write(channel, owned);
      }),
    );
  }

  async follow(name: string, streamId: string, listener: SseStreamListener): Promise<SseStreamFollowing | undefined> {
    const keys = this.keysOf(name);
    const channel = this.channelOf(name, streamId);
    const follower: Follower = { listener, have: 0, held: [], owner: '' };
    channel.followers.add(follower);
    const unfollow = () => {
      channel.followers.delete(follower);
      this.release(channel);
    };
    try {
      // Subscribed first, then read: a frame is either in what is read or heard after.
      await channel.subscribed.catch((error: unknown) => {
        throw new SseTransportError(SseMessages.transportFailed(String((error as Error)?.message ?? error)));
      });
      const items = (await this.requireLink().command((client) => client.lrangeBuffer(keys.recording(streamId), 0, -1), 'LRANGE')) as Buffer[];
      if (items.length === 0) {
        unfollow();
        return undefined;
      }
      follower.owner = items[0].toString('utf8', 1);
      const frames: Buffer[] = [];
      let finished: Buffer | undefined;
      for (const item of items.slice(1)) {
        if (item[0] === F) frames.push(item.subarray(1));
        else if (item[0] === E) finished = item.subarray(1);
      }
      follower.have = frames.length;
      const lost = finished === undefined && !(await this.host.isAlive(follower.owner));
      const held = follower.held ?? [];
      follower.held = undefined;
      if (finished !== undefined || lost) {
        unfollow();
        return { frames, finished, lost, unfollow: () => undefined };
      }
      // What was heard meanwhile goes on through the listener (the caller holds it until its replay is out).
      for (const message of held) this.heard(channel, follower, message);
      return { frames, finished: undefined, lost: false, unfollow };
    } catch (error) {
      unfollow();
      throw error;
    }
  }

  async stop(name: string, streamId: string): Promise<boolean> {
    const keys = this.keysOf(name);
    const link = this.requireLink();
    const [first, last] = (await link.command(
      (client) => Promise.all([client.lindexBuffer(keys.recording(streamId), 0), client.lindexBuffer(keys.recording(streamId), -1)]),
      'LINDEX',
    )) as [Buffer | null, Buffer | null];
    if (!first || !last || last[0] === E) return false;
    if (!(await this.host.isAlive(first.toString('utf8', 1)))) return false;
    await link.command((client) => client.spublish(keys.recordingChannel(streamId), 'x'), 'SPUBLISH');
    return true;
  }

  /**
   * Every presence renewal: keeps the recordings of the streams running here
   * from expiring, and tells followers here whose stream's instance is gone.
   */
  renew(): void {
    const link = this.host.link();
    if (!link) return;
    for (const channel of this.channels.values()) {
      if (channel.owned) {
        const key = this.keysOf(channel.name).recording(channel.streamId);
        const ms = this.keepFor(channel.owned.ttl);
        this.host.background(link.command((client) => client.pexpire(key, ms), 'PEXPIRE'));
      }
      const owners = new Set([...channel.followers].filter((f) => f.held === undefined).map((f) => f.owner));
      for (const owner of owners) {
        this.host.background(
          this.host.isAlive(owner).then((alive) => {
            if (alive) return;
            for (const follower of [...channel.followers]) {
              if (follower.owner !== owner || follower.held !== undefined) continue;
              channel.followers.delete(follower);
              follower.listener.lost();
            }
            this.release(channel);
          }),
        );
      }
    }
  }

  /** Forgets every channel (the transport disconnects). */
  clear(): void {
    this.channels.clear();
    this.listening = false;
  }

  /** A running stream's recording outlives its instance by its ttl, once its presence expired. */
  private keepFor(ttl: number): number {
    return ttl + this.host.presenceTtl;
  }

  private channelOf(name: string, streamId: string): Channel {
    const channelName = this.keysOf(name).recordingChannel(streamId);
    let channel = this.channels.get(channelName);
    if (!channel) {
      this.listen();
      const link = this.requireLink();
      channel = { key: channelName, name, streamId, owned: undefined, followers: new Set(), subscribed: link.subscriber.ssubscribe(channelName) };
      // A failed subscription shows in follow (which awaits it); an owner needs none to record.
      channel.subscribed.catch(() => undefined);
      this.channels.set(channelName, channel);
    }
    return channel;
  }

  /** Unsubscribes from a channel nobody here needs any more. */
  private release(channel: Channel): void {
    if (channel.owned || channel.followers.size > 0 || this.channels.get(channel.key) !== channel) return;
    this.channels.delete(channel.key);
    const link = this.host.link();
    if (link) void channel.subscribed.then(() => link.subscriber.sunsubscribe(channel.key)).catch(() => undefined);
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.requireLink().subscriber.on('smessageBuffer', (channelName: Buffer, message: Buffer) => {
      const channel = this.channels.get(channelName.toString());
      if (!channel) return;
      if (message[0] === X) {
        if (channel.owned) this.stopHandler?.(channel.name, channel.streamId);
        return;
      }
      for (const follower of [...channel.followers]) this.heard(channel, follower, message);
    });
  }

  /** A message of a follower's channel: held until its recording is read, then handed on once. */
  private heard(channel: Channel, follower: Follower, message: Buffer): void {
    if (follower.held) return void follower.held.push(message);
    if (message[0] === E) {
      channel.followers.delete(follower);
      this.release(channel);
      follower.listener.finished(message.subarray(1));
      return;
    }
    if (message[0] !== F) return;
    const newline = message.indexOf(0x0a);
    const n = Number(message.toString('utf8', 1, newline));
    if (n <= follower.have) return;
    follower.have = n;
    follower.listener.frames([message.subarray(newline + 1)]);
  }

  private requireLink(): RedisLink {
    const link = this.host.link();
    if (!link) throw new SseTransportError(SseMessages.transportNotConnected());
    return link;
  }

  private keysOf(name: string): RedisNameKeys {
    return new RedisNameKeys(this.host.prefix, name);
  }
}

const F = 'f'.charCodeAt(0);
const E = 'e'.charCodeAt(0);
const X = 'x'.charCodeAt(0);
