/** The name every page's long-lived connection is registered under. */
export const EVENTS = 'events';

/** The chat room of a page that names none. */
export const DEFAULT_ROOM = 'lobby';

/** Longest chat message or notification text accepted. */
export const MAX_TEXT_LENGTH = 500;
