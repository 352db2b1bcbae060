/**
 * What a publisher sends in one phase of a scale-out run, and which events
 * each client must therefore receive: the one rule shared by the publisher
 * (which numbers each target's events 0, 1, 2, …) and the orchestrator
 * (which tells the clients how many to expect).
 */
export interface SendPlan {
  /** `names`: send i goes to every connection of `names[i % names.length]`; `users`: to user `u<i % users>` of `names[0]`. */
  kind: 'names' | 'users';
  names: string[];
  users: number;
  /** Sends in this phase. */
  total: number;
  /** Most sends awaiting Redis's answer at once. */
  window: number;
  /** Sends per second, spread evenly; 0: as fast as the window allows. */
  rate: number;
}

/** The target of send `i` of the plan, as `SseHub.send` takes it, and the key its sequence is numbered by. */
export function targetOf(plan: SendPlan, i: number): { target: { name: string; user?: string }; key: string } {
  if (plan.kind === 'names') {
    const name = plan.names[i % plan.names.length];
    return { target: { name }, key: name };
  }
  const user = `u${i % plan.users}`;
  return { target: { name: plan.names[0], user }, key: user };
}

/** How many events of the plan reach a target key (a name, or a user). */
export function sendsTo(plan: SendPlan, key: string): number {
  const count = plan.kind === 'names' ? plan.names.length : plan.users;
  const index = plan.kind === 'names' ? plan.names.indexOf(key) : Number(key.slice(1));
  if (index < 0 || index >= count) return 0;
  return Math.floor(plan.total / count) + (index < plan.total % count ? 1 : 0);
}
