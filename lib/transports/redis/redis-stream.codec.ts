import type { SseEncodedEvents, SsePreparedEvents, SseReplayMode, SseTransportTarget } from '../../interfaces/sse-transport.interface.js';

/**
 * How `RedisTransport` writes targets into, and reads entries back from, the
 * shared event stream (see redis.scripts.ts for the layout).
 */

/** The fields of one stream entry, by name (values stay raw bytes: frames are not re-encoded). */
export function fieldsOf(raw: Buffer[]): Map<string, Buffer> {
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < raw.length; i += 2) fields.set(raw[i].toString(), raw[i + 1]);
  return fields;
}

// A send's replay modes as its entry's `m` field: one letter per event (absent when every event is kept).
const MODE_LETTERS: Record<SseReplayMode, string> = { all: 'a', none: 'n', latest: 'l' };
const MODES_BY_LETTER: Record<string, SseReplayMode> = { a: 'all', n: 'none', l: 'latest' };

/** The modes of a send as the PUBLISH script takes them ('' when every event is kept). */
export function modesField(events: SseEncodedEvents): string {
  return events.modes ? events.modes.map((mode) => MODE_LETTERS[mode]).join('') : '';
}

/** The events of a send entry, with the ids and frames the sending script decided (no copy of the frame). */
export function preparedOf(fields: Map<string, Buffer>): SsePreparedEvents {
  const ids = fields.get('ids')!.toString().split('\n');
  const frame = fields.get('f')!;
  const m = fields.get('m');
  const modes = m === undefined ? undefined : [...m.toString()].map((letter) => MODES_BY_LETTER[letter] ?? 'all');
  let frames: Buffer[] = [frame];
  if (ids.length > 1) {
    frames = [];
    let offset = 0;
    for (const length of fields.get('len')!.toString().split(',')) {
      frames.push(frame.subarray(offset, (offset += Number(length))));
    }
  }
  return modes ? { ids, frames, frame, modes } : { ids, frames, frame };
}

/** A target as the scripts read it (`cjson`): absent lists stay absent. */
export function targetJson(target: SseTransportTarget): string {
  return JSON.stringify({ n: target.names, g: target.groups, c: target.clientIds, u: target.users });
}

/** A target read back from the event stream. */
export function targetOf(json: string): SseTransportTarget {
  const { n, g, c, u } = JSON.parse(json) as { n: string[]; g?: string[]; c?: string[]; u?: string[] };
  return { names: n, groups: g, clientIds: c, users: u };
}

/** Orders two stream ids (`<ms>-<seq>`). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}
