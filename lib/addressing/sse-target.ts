import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import { assertIdentifier } from './identifiers.js';
import type { SseTarget } from '../interfaces/sse-event.interface.js';
import type { SseTransportTarget } from '../interfaces/sse-transport.interface.js';

/** A target with every list checked, without repeats (`undefined` = not given). */
export interface NormalizedTarget extends SseTransportTarget {
  readonly names: string[];
  readonly groups: string[] | undefined;
  readonly clientIds: string[] | undefined;
}

/** What addressing needs to know of a connection. */
export interface SseAddressee {
  readonly name: string;
  readonly group: string | undefined;
  readonly clientId: string;
}

const toList = (kind: string, value: string | string[] | undefined): string[] | undefined => {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  for (const item of list) assertIdentifier(kind, item);
  // Repeats are dropped once here, so that no recipient, history entry or
  // transport message ever counts a name, group or client id twice.
  return list.length > 1 ? [...new Set(list)] : list;
};

/** Validates a target; throws `SseInvalidArgumentError` on anything malformed. */
export function normalizeTarget(target: SseTarget): NormalizedTarget {
  if (typeof target !== 'object' || target === null) throw new SseInvalidArgumentError(SseMessages.missingTarget());
  const names = toList('name', target.name);
  if (!names || names.length === 0) {
    throw new SseInvalidArgumentError(names ? SseMessages.emptyNameList() : SseMessages.missingTarget());
  }
  return { names, groups: toList('group', target.group), clientIds: toList('client id', target.clientId) };
}

/**
 * The addressing rule (Pode's): a send reaches a connection when the target
 * lists its name, and — when given — its client id, and — when given — its
 * group. An empty list matches nobody. The registry's indexes only pick the
 * candidates this rule is applied to; history replay applies it as it is.
 */
export function isAddressedTo(target: SseTransportTarget, addressee: SseAddressee): boolean {
  const { groups, clientIds } = target;
  if (!target.names.includes(addressee.name)) return false;
  if (clientIds && !clientIds.includes(addressee.clientId)) return false;
  if (groups && (addressee.group === undefined || !groups.includes(addressee.group))) return false;
  return true;
}
