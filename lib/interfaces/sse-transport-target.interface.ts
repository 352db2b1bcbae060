/**
 * Who a send, close or query addresses, validated: every connection of the
 * names, narrowed (when given) to those client ids, those users, and those in
 * at least one of the groups (see `SseTarget`, `isAddressedTo`). An empty list
 * matches nobody. No list holds a value twice: a transport passes targets on
 * as it got them.
 */
export interface SseTransportTarget {
  readonly names: readonly string[];
  readonly groups?: readonly string[];
  readonly clientIds?: readonly string[];
  readonly users?: readonly string[];
}
