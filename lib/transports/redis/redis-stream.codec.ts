import type { SsePreparedEvents, SseTransportTarget } from '../../interfaces/sse-transport.interface.js';

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

/** The events of a send entry, with the ids and frames the sending script decided (no copy of the frame). */
export function preparedOf(fields: Map<string, Buffer>): SsePreparedEvents {
  const ids = fields.get('ids')!.toString().split('\n');
  const frame = fields.get('f')!;
  if (ids.length === 1) return { ids, frames: [frame], frame };
  const frames: Buffer[] = [];
  let offset = 0;
  for (const length of fields.get('len')!.toString().split(',')) {
    frames.push(frame.subarray(offset, (offset += Number(length))));
  }
  return { ids, frames, frame };
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
