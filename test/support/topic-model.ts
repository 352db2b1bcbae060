/**
 * A plain model of addressing and per-topic history, written for tests only:
 * arrays and filters, no indexes, no optimizations. Property tests compare
 * the library (in memory and over Redis) against it.
 */

/** A send as the model sees it. */
export interface ModelSend {
  readonly id: string;
  readonly target: { names: string[]; groups?: string[]; clientIds?: string[]; users?: string[] };
}

/** A connection as the model sees it. */
export interface ModelReader {
  readonly name: string;
  readonly groups: readonly string[];
  readonly clientId: string;
  readonly user: string | undefined;
}

/** The addressing rule, as the README states it. */
export function addressed(send: ModelSend, reader: ModelReader): boolean {
  const { names, groups, clientIds, users } = send.target;
  return (
    names.includes(reader.name) &&
    (!clientIds || clientIds.includes(reader.clientId)) &&
    (!users || (reader.user !== undefined && users.includes(reader.user))) &&
    (!groups || groups.some((group) => reader.groups.includes(group)))
  );
}

/** The topics a send is kept in: its most specific selector, per name. */
function topicsOf(send: ModelSend): string[] {
  const { names, groups, clientIds, users } = send.target;
  return names.flatMap((name) =>
    clientIds ? clientIds.map((c) => `clientId:${name}:${c}`)
    : users ? users.map((u) => `user:${name}:${u}`)
    : groups ? groups.map((g) => `group:${name}:${g}`)
    : [`name:${name}`],
  );
}

function readerTopics(reader: ModelReader): Array<[string, Record<string, string>]> {
  return [
    [`name:${reader.name}`, { name: reader.name }],
    ...reader.groups.map((g): [string, Record<string, string>] => [`group:${reader.name}:${g}`, { group: g }]),
    ...(reader.user === undefined ? [] : [[`user:${reader.name}:${reader.user}`, { user: reader.user }] as [string, Record<string, string>]]),
    [`clientId:${reader.name}:${reader.clientId}`, { clientId: reader.clientId }],
  ];
}

/**
 * What a reader that last saw `sends[position]` gets back with history `size`
 * per topic (no age or memory limit): the ids still held in its topics, after
 * its position, addressed to it, in send order; and the topics that dropped a
 * send after its position.
 */
export function modelReplay(sends: readonly ModelSend[], size: number, reader: ModelReader, position: number) {
  const held = new Map<string, number[]>();
  const droppedAfter = new Set<string>();
  sends.forEach((send, index) => {
    for (const topic of new Set(topicsOf(send))) {
      const list = held.get(topic) ?? [];
      list.push(index);
      while (list.length > size) {
        if (list.shift()! > position) droppedAfter.add(topic);
      }
      held.set(topic, list);
    }
  });
  const mine = readerTopics(reader);
  const indices = new Set<number>();
  for (const [topic] of mine) for (const index of held.get(topic) ?? []) if (index > position) indices.add(index);
  return {
    ids: [...indices].sort((a, b) => a - b).filter((i) => addressed(sends[i], reader)).map((i) => sends[i].id),
    lostTopics: mine.filter(([topic]) => droppedAfter.has(topic)).map(([, ref]) => ref),
  };
}
