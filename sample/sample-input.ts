import { BadRequestException } from '@nestjs/common';
import { DEFAULT_ROOM } from './sample.constants.js';

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
