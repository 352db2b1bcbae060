/**
 * How widely a `send` to a name may reach (Pode's broadcast levels):
 * - `'name'`: any send, including to every client of the name (default);
 * - `'group'`: the send must name a group, a client id or a user;
 * - `'clientId'`: the send must name a client id or a user.
 */
export type SseBroadcastLevel = 'name' | 'group' | 'clientId';

/**
 * What happens to a connection when its handler returns:
 * - `'global'`: it stays open and is registered for `SseHub.send`;
 * - `'local'`: it is not registered, and closes once the handler's work is done.
 */
export type SseScope = 'global' | 'local';
