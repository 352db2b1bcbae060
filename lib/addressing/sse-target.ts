import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import { assertIdentifier } from './identifiers.js';
import type { SseTarget } from '../interfaces/sse-event.interface.js';
import type { SseTransportTarget } from '../interfaces/sse-transport.interface.js';
import type { SseReplayReader } from '../interfaces/sse-history.interface.js';

/** A target with every list checked, without repeats (`undefined` = not given). */
export interface NormalizedTarget extends SseTransportTarget {
  readonly names: string[];
  readonly groups: string[] | undefined;
  readonly clientIds: string[] | undefined;
  readonly users: string[] | undefined;
}

/** What addressing needs to know of a connection (the same as a replay's reader). */
export type SseAddressee = SseReplayReader;

/** One identifier or a list of them, checked, without repeats; undefined stays undefined. */
export function identifierList(kind: string, value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list: readonly string[] = Array.isArray(value) ? value : [value as string];
  for (const item of list) assertIdentifier(kind, item);
  // Repeats are dropped once here, so that no recipient, history entry or
  // transport message ever counts a name, group or client id twice.
  return list.length > 1 ? [...new Set(list)] : [...list];
}

/** Validates a target; throws `SseInvalidArgumentError` on anything malformed. */
export function normalizeTarget(target: SseTarget): NormalizedTarget {
  if (typeof target !== 'object' || target === null) throw new SseInvalidArgumentError(SseMessages.missingTarget());
  const names = identifierList('name', target.name);
  if (!names || names.length === 0) {
    throw new SseInvalidArgumentError(names ? SseMessages.emptyNameList() : SseMessages.missingTarget());
  }
  return {
    names,
    groups: identifierList('group', target.group),
    clientIds: identifierList('client id', target.clientId),
    users: identifierList('user', target.user),
  };
}

/**
 * The addressing rule (Pode's, narrowed by users): a send reaches a connection
 * when the target lists its name, and — when given — its client id, its user,
 * and at least one of its groups. An empty list matches nobody. The
 * registry's indexes only pick candidates this rule agrees with; history
 * replay applies it as it is.
 */
export function isAddressedTo(target: SseTransportTarget, addressee: SseAddressee): boolean {
  const { groups, clientIds, users } = target;
  if (!target.names.includes(addressee.name)) return false;
  if (clientIds && !clientIds.includes(addressee.clientId)) return false;
  if (users && (addressee.user === undefined || !users.includes(addressee.user))) return false;
  if (groups && !sharesAny(groups, addressee.groups)) return false;
  return true;
}

/** True when the two lists have an element in common. */
function sharesAny(wanted: readonly string[], held: readonly string[]): boolean {
  for (const item of held) if (wanted.includes(item)) return true;
  return false;
}
