import { BadRequestException, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { isValidIdentifier } from '../addressing/identifiers.js';
import { STREAM_ID_BYTES } from '../sse.constants.js';
import { SseMessages } from '../sse.messages.js';
import { resumableSettings } from './sse-stream-options.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';

/**
 * The stream id of a request to a resumable or follow route (undefined on
 * other routes): a follow's from its `follow` callback (404 when it gives none),
 * a producer's from `resumable.id`, else 128 random bits. A derived id that is
 * no valid identifier is the request's fault: 400.
 */
export function streamIdOf(request: object, options: SseConnectionOptions): string | undefined {
  if (options.follow) {
    const id = options.follow(request);
    if (id === undefined) throw new NotFoundException(SseMessages.unknownStream(options.name));
    return checked(id);
  }
  const resumable = resumableSettings(options.resumable);
  if (!resumable) return undefined;
  return resumable.id ? checked(resumable.id(request)) : randomBytes(STREAM_ID_BYTES).toString('base64url');
}

function checked(id: unknown): string {
  if (!isValidIdentifier(id)) throw new BadRequestException(SseMessages.invalidIdentifier('stream id', id));
  return id;
}
