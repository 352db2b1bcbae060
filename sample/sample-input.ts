import { BadRequestException } from '@nestjs/common';
import { DEFAULT_ROOM, MAX_NAME_LENGTH, USER_COOKIE } from './sample.constants.js';

// C0 controls and DEL: never wanted in a chat line or an id.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Reads a required string field of a JSON body: 1..maxLength characters, no
 * control characters; anything else is a 400 that names the field.
 */
export function requireText(body: unknown, field: string, maxLength: number): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > maxLength || CONTROL_CHARACTERS.test(value)) {
    throw new BadRequestException(`"${field}" must be a string of 1 to ${maxLength} characters without control characters`);
  }
  return value;
}

/**
 * The chat room a page joins: its `room` query parameter, or the lobby.
 * Receives the platform's request (Express or Fastify; both parse `query`).
 * A repeated parameter is refused; the library refuses an invalid room name.
 */
export function roomOf(request: { query?: unknown }): string {
  const room = (request.query as Record<string, unknown> | undefined)?.room;
  if (room === undefined || room === '') return DEFAULT_ROOM;
  if (typeof room !== 'string') throw new BadRequestException('"room" must be given once, as a string');
  return room;
}

// Names of people and rooms: letters, digits, '-' and '_' (they also travel in a cookie).
const NAME = new RegExp(`^[\\p{L}\\p{N}_-]{1,${MAX_NAME_LENGTH}}$`, 'u');

/** A required room name of a JSON body: 400 unless it is a plain name. */
export function requireRoom(body: unknown): string {
  const room = requireText(body, 'room', MAX_NAME_LENGTH);
  if (!NAME.test(room)) throw new BadRequestException('"room" must be letters, digits, "-" or "_"');
  return room;
}

/**
 * The user a page's connection belongs to: the `sample-user` cookie the page
 * sets when someone "signs in" (a real app takes it from its session, e.g.
 * `req.user.id` set by a guard). Every tab of that browser is that user.
 */
export function userOf(request: { headers?: Record<string, string | string[] | undefined> }): string | undefined {
  const cookies = String(request.headers?.cookie ?? '').split(/;\s*/);
  const value = cookies.find((cookie) => cookie.startsWith(`${USER_COOKIE}=`))?.slice(USER_COOKIE.length + 1);
  if (value === undefined) return undefined;
  try {
    const user = decodeURIComponent(value);
    return NAME.test(user) ? user : undefined;
  } catch {
    // A cookie that does not decode is no user (an anonymous page), not an error.
    return undefined;
  }
}
