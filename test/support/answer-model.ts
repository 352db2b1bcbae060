import { Controller, Get, Injectable, Post } from '@nestjs/common';
import { SseConnection, SseContext } from '../../lib/index.js';
import { deferred } from './deferred.js';
import { headerValue } from './request-params.js';

const END = Symbol('end');

/**
 * One answer of the fake model, driven by the test word by word (no timers):
 * `push` a word, `end()` the answer. It sees its stream's signal as a model
 * SDK would (`signal.aborted` tells a test it was stopped), and reports when it finished.
 */
export class AnswerScript {
  private readonly queue: Array<string | typeof END> = [];
  private wake: (() => void) | undefined;
  /** Resolves once the generator has finished, however (returned, stopped, thrown). */
  readonly stopped = deferred();
  /** Words the generator has yielded. */
  yielded = 0;

  constructor(readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.wake?.());
  }

  push(...words: string[]): void {
    this.queue.push(...words);
    this.wake?.();
  }

  end(): void {
    this.queue.push(END);
    this.wake?.();
  }

  /** The answer as a handler returns it: an async generator of events. */
  async *run(): AsyncGenerator<{ data: string }> {
    try {
      for (;;) {
        while (this.queue.length === 0) {
          // What an SDK does on abort: rejects with the signal's AbortError.
          this.signal.throwIfAborted();
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
        const next = this.queue.shift()!;
        if (next === END) return;
        this.yielded++;
        yield { data: next };
      }
    } finally {
      this.stopped.resolve();
    }
  }
}

/** The answers being produced, by stream id. */
@Injectable()
export class AnswerModel {
  readonly scripts = new Map<string, AnswerScript>();
  /** Errors a handler's send threw (by route). */
  readonly sendErrors: unknown[] = [];

  start(ctx: SseContext): AsyncGenerator<{ data: string }> {
    const script = new AnswerScript(ctx.signal);
    this.scripts.set(ctx.streamId!, script);
    return script.run();
  }

  of(streamId: string): AnswerScript {
    const script = this.scripts.get(streamId);
    if (!script) throw new Error(`no answer ${streamId}`);
    return script;
  }
}

/** Milliseconds the short-lived `brief` recordings are kept. */
export const BRIEF_TTL_MS = 300;

const paramId = (req: { params?: Record<string, string> }) => req.params?.id;

/** POST streams of the fake model (`answer`: recorded 1 min; `brief`: a short ttl) and their follow routes. */
@Controller()
export class AnswerController {
  constructor(private readonly model: AnswerModel) {}

  @Post('answer')
  @SseConnection({ name: 'answer', scope: 'local', resumable: { ttl: 60_000 } })
  answer(@SseContext() ctx: SseContext) {
    return this.model.start(ctx);
  }

  /** The stream id chosen by the client (a conversation id), from a header. */
  @Post('named')
  @SseConnection({ name: 'answer', scope: 'local', resumable: { id: (req) => headerValue(req, 'x-answer-id')! } })
  named(@SseContext() ctx: SseContext) {
    return this.model.start(ctx);
  }

  @Get('answer/:id')
  @SseConnection({ name: 'answer', follow: paramId })
  follow() {}

  @Post('brief')
  @SseConnection({ name: 'brief', scope: 'local', resumable: { ttl: BRIEF_TTL_MS } })
  brief(@SseContext() ctx: SseContext) {
    return this.model.start(ctx);
  }

  @Get('brief/:id')
  @SseConnection({ name: 'brief', follow: paramId })
  followBrief() {}

  /** A handler that sets its own event id: refused. */
  @Post('own-id')
  @SseConnection({ name: 'answer', scope: 'local', resumable: true })
  async ownId(@SseContext() ctx: SseContext) {
    try {
      await ctx.send({ id: 'mine', data: 'x' });
    } catch (error) {
      this.model.sendErrors.push(error);
    }
    await ctx.send({ data: 'fine' });
  }

  /** Runs at most 200 ms, then is stopped. */
  @Post('bounded')
  @SseConnection({ name: 'answer', scope: 'local', resumable: { maxDuration: 200 } })
  bounded(@SseContext() ctx: SseContext) {
    return this.model.start(ctx);
  }
}
