import type { SsePreparedEvents, SseReplayMode, SseTransportTarget } from '../../interfaces/sse-transport.interface.js';

/** A target as the scripts read it (`cjson`): absent lists stay absent. */
export function targetJson(target: SseTransportTarget): string {
  return JSON.stringify({ n: target.names, g: target.groups, c: target.clientIds, u: target.users });
}

type TargetJson = { n: string[]; g?: string[]; c?: string[]; u?: string[] };
const targetOf = ({ n, g, c, u }: TargetJson): SseTransportTarget => ({ names: n, groups: g, clientIds: c, users: u });

/** A send as it travels and is kept: its events with their ids, order ids and frames. */
export interface RedisSendRecord {
  readonly type: 's';
  /** The order id (`ms-seq`) of its last event: sends of one name are ordered by it. */
  readonly order: string;
  readonly target: SseTransportTarget;
  /** Each event's order id, id and frame; `frame` is all of them in one buffer. */
  readonly events: SsePreparedEvents & { readonly orders: readonly string[] };
}

/** A close, join or leave to carry out here and answer, or a claim that a later one took. */
export type RedisCommandRecord =
  | { readonly type: 'c' | 'x' | 'j' | 'l'; readonly target: SseTransportTarget; readonly requestId: string; readonly from: string; readonly groups: readonly string[]; readonly replay: number }
  | { readonly type: 'r'; readonly clientId: string; readonly token: string };

export type RedisRecord = RedisSendRecord | RedisCommandRecord;

type Header =
  | { t: 's'; o: string; os: string[]; ids: string[]; len: number[]; m?: string; tg: TargetJson }
  | { t: 'c' | 'x' | 'j' | 'l'; tg: TargetJson; rid: string; from: string; gs: string[]; rp: number }
  | { t: 'r'; c: string; tok: string };

/** The replay modes as the SEND script's letters spell them. */
const REPLAY_MODES = { a: 'all', n: 'none', l: 'latest' } as const satisfies Record<string, SseReplayMode>;

/** The letters of a send's replay modes ('' when every event is kept as usual). */
export function modeLetters(modes: readonly SseReplayMode[] | undefined): string {
  if (!modes || modes.every((mode) => mode === 'all')) return '';
  return modes.map((mode) => (mode === 'none' ? 'n' : mode === 'latest' ? 'l' : 'a')).join('');
}

/** Decodes a record from its header (JSON) and the frames that follow it (no copy of the frames). */
export function decodeRecord(header: string, frames: Buffer): RedisRecord {
  const h = JSON.parse(header) as Header;
  if (h.t === 'r') return { type: 'r', clientId: h.c, token: h.tok };
  if (h.t !== 's') {
    // cjson writes an empty list as an object.
    const groups = Array.isArray(h.gs) ? h.gs : [];
    return { type: h.t, target: targetOf(h.tg), requestId: h.rid, from: h.from, groups, replay: h.rp };
  }
  const list: Buffer[] = new Array(h.len.length);
  let offset = 0;
  for (let i = 0; i < h.len.length; i++) list[i] = frames.subarray(offset, (offset += h.len[i]));
  const modes = h.m === undefined ? undefined : [...h.m].map((letter) => REPLAY_MODES[letter as keyof typeof REPLAY_MODES] ?? 'all');
  return { type: 's', order: h.o, target: targetOf(h.tg), events: { ids: h.ids, orders: h.os, frames: list, frame: frames, modes } };
}

/** Decodes a published message: the header line, then the frames. */
export function decodeMessage(message: Buffer): RedisRecord {
  const newline = message.indexOf(0x0a);
  return decodeRecord(message.toString('utf8', 0, newline), message.subarray(newline + 1));
}

/** Orders two order ids (`ms-seq`). */
export function compareOrders(a: string, b: string): number {
  const dash = a.indexOf('-');
  const other = b.indexOf('-');
  return Number(a.slice(0, dash)) - Number(b.slice(0, other)) || Number(a.slice(dash + 1)) - Number(b.slice(other + 1));
}

// Ids this transport makes: `<ms>-<seq>.<epoch>`.
const OWN_ID = /^(\d+-\d+)\.([0-9a-f]+)$/;

/** The order id and epoch of an id this transport made, or undefined for an id the app chose. */
export function parseOwnId(id: string): { order: string; epoch: string } | undefined {
  const match = OWN_ID.exec(id);
  return match ? { order: match[1], epoch: match[2] } : undefined;
}
