/** The name every page's long-lived connection is registered under. */
export const EVENTS = 'events';

/** The chat room of a page that names none. */
export const DEFAULT_ROOM = 'lobby';

/** Longest chat message or notification text accepted. */
export const MAX_TEXT_LENGTH = 500;

/** Longest room or user name accepted. */
export const MAX_NAME_LENGTH = 64;

/** The cookie that says who the browser's user is (the page sets it: a stand-in for real sign-in). */
export const USER_COOKIE = 'sample-user';

/** The name the model's answers (resumable streams) run under. */
export const ANSWERS = 'answers';
