import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { SseConnection, SseContext, SseHub } from '../lib/index.js';
import { fakeModel } from './fake-model.js';
import { requireText } from './sample-input.js';
import { ANSWERS, MAX_TEXT_LENGTH } from './sample.constants.js';

/** The model's words as events. The signal is aborted only when the stream is stopped, never because the page left. */
async function* words(question: string, signal: AbortSignal): AsyncGenerator<{ event: 'word'; data: string }> {
  for await (const word of fakeModel(question, signal)) yield { event: 'word', data: word };
}

const idParam = (req: { params?: Record<string, string> }) => req.params?.id;

/**
 * An answer streamed by a (fake) model as a resumable stream: it survives a
 * reload (the page follows it by its id), shows live in a second tab, and
 * stops from the stop button, on whichever instance runs it.
 */
@Controller()
export class AnswerController {
  constructor(private readonly hub: SseHub) {}

  /** Asks the model: the answer is recorded, and its handler runs to the end even if the page goes. */
  @Post('answer')
  @SseConnection({ name: ANSWERS, scope: 'local', resumable: true })
  ask(@SseContext() ctx: SseContext, @Body() body: unknown): AsyncGenerator<{ event: 'word'; data: string }> {
    // Checked before the stream opens: a bad question is a 400.
    const question = requireText(body, 'question', MAX_TEXT_LENGTH);
    return words(question, ctx.signal);
  }

  /** Follows an answer by its id: what was missed (or all of it), then the live rest. */
  @Get('answer/:id')
  @SseConnection({ name: ANSWERS, follow: idParam })
  follow(): void {}

  @Post('api/answer/:id/stop')
  @HttpCode(200)
  async stop(@Param('id') id: string): Promise<{ stopped: boolean }> {
    return { stopped: await this.hub.stopStream(ANSWERS, id) };
  }
}
