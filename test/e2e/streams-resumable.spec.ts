import { Controller, Get, Post } from '@nestjs/common';
import { SseConnection, SseInvalidArgumentError, SseModule, type SseModuleOptions } from '../../lib/index.js';
import { platforms, useApp, useApps, type TestApp } from '../support/app.js';
import { AnswerController, AnswerModel } from '../support/answer-model.js';
import { rawHttp } from '../support/raw-http.js';
import type { SseClient } from '../support/sse-client.js';
import { until } from '../support/wait.js';

const post = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{"question":"why?"}' };

/** Starts an answer; resolves with its client and stream id once `sse.open` arrived. */
async function ask(t: TestApp, path = '/answer', headers: Record<string, string> = {}): Promise<{ client: SseClient; streamId: string }> {
  const client = await t.open(path, { ...post, headers: { ...post.headers, ...headers } });
  const opened = (await client.opened()) as { streamId?: string };
  expect(opened.streamId).toBeDefined();
  return { client, streamId: opened.streamId! };
}

/** The words a client got, in order. */
const words = (client: SseClient) => client.dataOf('message');
const closeReason = async (client: SseClient) => JSON.parse((await client.next('sse.close')).data).reason as string;

describe.each(platforms)('resumable streams in memory ($name)', (platform) => {
  const t = useApp(platform, () => ({
    imports: [SseModule.forRoot({ drainTimeout: 0 })],
    controllers: [AnswerController],
    providers: [AnswerModel],
  }));
  const model = () => t.get(AnswerModel);

  it('the stream id goes out in sse.open and X-Sse-Stream-Id; events get the library’s ids', async () => {
    const sentBefore = t.hub.stats().eventsSent;
    const { client, streamId } = await ask(t);
    // 128 random bits, base64url.
    expect(streamId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(client.headers['x-sse-stream-id']).toBe(streamId);
    model().of(streamId).push('a', 'b');
    await client.waitFor(() => words(client).length === 2, 'two words');
    const ids = client.eventsOf('message').map((e) => e.id);
    expect(new Set(ids).size).toBe(2);
    // Counted as any stream's events are.
    expect(t.hub.stats().eventsSent - sentBefore).toBe(2);
    model().of(streamId).end();
    expect(await closeReason(client)).toBe('done');
  });

  it('the client leaves mid-answer: the handler completes; followers get exactly the rest, everything, or the rest after done', async () => {
    const { client, streamId } = await ask(t);
    const script = model().of(streamId);
    script.push('one', 'two');
    await client.waitFor(() => words(client).length === 2, 'two words');
    const seen = client.lastEventId!;
    client.close();
    await client.end();
    // The handler keeps running for nobody's client: its signal is not aborted.
    script.push('three');
    await until(() => script.yielded === 3, 'the third word');
    expect(script.signal.aborted).toBe(false);

    const resumed = await t.open(`/answer/${streamId}`, { headers: { 'last-event-id': seen } });
    expect((await resumed.opened() as { streamId?: string }).streamId).toBe(streamId);
    const fromStart = await t.open(`/answer/${streamId}`);
    await resumed.waitFor(() => words(resumed).length === 1, 'the rest so far');
    script.push('four');
    script.end();
    await script.stopped.promise;
    expect(await closeReason(resumed)).toBe('done');
    expect(words(resumed)).toEqual(['three', 'four']);
    expect(resumed.eventsOf('sse.gap')).toEqual([]);
    expect(await closeReason(fromStart)).toBe('done');
    expect(words(fromStart)).toEqual(['one', 'two', 'three', 'four']);
    await resumed.end();

    // After done, within ttl: the rest, then done.
    const late = await t.open(`/answer/${streamId}`, { headers: { 'last-event-id': seen } });
    expect(await closeReason(late)).toBe('done');
    expect(words(late)).toEqual(['three', 'four']);
    await late.end();
    expect(script.signal.aborted).toBe(false);
  });

  it('done carries an id: a plain EventSource reconnecting with it is answered 204', async () => {
    const { client, streamId } = await ask(t);
    model().of(streamId).push('x');
    model().of(streamId).end();
    const close = await client.next('sse.close');
    expect(close.id).toBeDefined();
    await client.end();
    const follower = await t.open(`/answer/${streamId}`);
    expect(await closeReason(follower)).toBe('done');
    expect(follower.lastEventId).toBeDefined();
    const reconnect = await rawHttp(`${t.url}/answer/${streamId}`, { headers: { accept: 'text/event-stream', 'last-event-id': follower.lastEventId! } });
    expect(reconnect.status).toBe(204);
  });

  it('a Last-Event-ID not in the stream gives sse.gap, then everything from the start', async () => {
    const { client, streamId } = await ask(t);
    model().of(streamId).push('a', 'b');
    await client.waitFor(() => words(client).length === 2, 'two words');
    const first = client.eventsOf('message')[0].id;
    const follower = await t.open(`/answer/${streamId}`, { headers: { 'last-event-id': 'not-of-this-stream.1' } });
    await follower.waitFor(() => words(follower).length === 2, 'everything');
    expect(follower.events.map((e) => e.event ?? 'message')).toEqual(['sse.open', 'sse.gap', 'message', 'message']);
    expect(JSON.parse(follower.eventsOf('sse.gap')[0].data)).toEqual({
      lastEventId: 'not-of-this-stream.1',
      oldestAvailableId: first,
      topics: [{ name: 'answer', streamId }],
    });
    model().of(streamId).end();
    await follower.end();
  });

  it('an unknown stream id answers 404; an id running or recorded under that name answers 409', async () => {
    expect((await rawHttp(`${t.url}/answer/nope`, { headers: { accept: 'text/event-stream' } })).status).toBe(404);
    // A HEAD is answered as its GET would be.
    expect((await rawHttp(`${t.url}/answer/nope`, { method: 'HEAD', headers: { accept: 'text/event-stream' } })).status).toBe(404);
    const { client, streamId } = await ask(t, '/named', { 'x-answer-id': 'conversation-7' });
    expect(streamId).toBe('conversation-7');
    expect((await rawHttp(`${t.url}/answer/conversation-7`, { method: 'HEAD', headers: { accept: 'text/event-stream' } })).status).toBe(200);
    const taken = await rawHttp(`${t.url}/named`, { ...post, headers: { ...post.headers, accept: 'text/event-stream', 'x-answer-id': 'conversation-7' } });
    expect(taken.status).toBe(409);
    model().of(streamId).end();
    await client.end();
    // Recorded: still taken.
    const recorded = await rawHttp(`${t.url}/named`, { ...post, headers: { ...post.headers, accept: 'text/event-stream', 'x-answer-id': 'conversation-7' } });
    expect(recorded.status).toBe(409);
  });

  it('an id set by the handler is refused with SseInvalidArgumentError', async () => {
    const client = await t.open('/own-id', post);
    expect(await closeReason(client)).toBe('done');
    expect(words(client)).toEqual(['fine']);
    expect(model().sendErrors.at(-1)).toBeInstanceOf(SseInvalidArgumentError);
  });

  it('after ttl the recording is gone: 404', async () => {
    const { client, streamId } = await ask(t, '/brief');
    model().of(streamId).end();
    expect(await closeReason(client)).toBe('done');
    const status = async () => (await rawHttp(`${t.url}/brief/${streamId}`, { headers: { accept: 'text/event-stream' } })).status;
    // Within ttl it replays (unless this machine was slower than the ttl), then 404.
    await until(async () => (await status()) === 404, 'the recording to expire');
  });

  it('hub.stopStream aborts the signal and closes the client and every follower with stopped; later follows get the recording, then stopped', async () => {
    const { client, streamId } = await ask(t);
    const script = model().of(streamId);
    script.push('one');
    await client.waitFor(() => words(client).length === 1, 'a word');
    const follower = await t.open(`/answer/${streamId}`);
    await follower.waitFor(() => words(follower).length === 1, 'a word');
    expect(await t.hub.stopStream('answer', streamId)).toBe(true);
    expect(await closeReason(client)).toBe('stopped');
    expect(await closeReason(follower)).toBe('stopped');
    // Aborted before the stream's last frame was written.
    expect(script.signal.aborted).toBe(true);
    await script.stopped.promise;
    expect(await t.hub.stopStream('answer', streamId)).toBe(false);
    expect(await t.hub.stopStream('answer', 'unknown')).toBe(false);
    const later = await t.open(`/answer/${streamId}`);
    expect(await closeReason(later)).toBe('stopped');
    expect(words(later)).toEqual(['one']);
    // The handler's failure after its abort is no error: nothing else was sent.
    expect(client.eventsOf('sse.error')).toEqual([]);
  });

  it('stopStream checks its arguments', async () => {
    await expect(t.hub.stopStream('', 'x')).rejects.toThrow(SseInvalidArgumentError);
    await expect(t.hub.stopStream('answer', '')).rejects.toThrow(SseInvalidArgumentError);
  });

  it('maxDuration stops the stream with reason stopped', async () => {
    const { client, streamId } = await ask(t, '/bounded');
    expect(await closeReason(client)).toBe('stopped');
    expect(model().of(streamId).signal.aborted).toBe(true);
  });
});

describe.each(platforms)('resumable streams: limits and shutdown ($name)', (platform) => {
  const apps = useApps(platform);
  const start = (options: SseModuleOptions) =>
    apps.start({ imports: [SseModule.forRoot(options)], controllers: [AnswerController], providers: [AnswerModel] });

  it('maxRecordedBytes stops a stream whose recording would pass it (reason stopped)', async () => {
    const t = await start({ maxRecordedBytes: 200, drainTimeout: 0 });
    const { client, streamId } = await ask(t);
    const script = t.get(AnswerModel).of(streamId);
    script.push('a'.repeat(100));
    await client.waitFor(() => words(client).length === 1, 'a word');
    script.push('b'.repeat(150));
    expect(await closeReason(client)).toBe('stopped');
    expect(script.signal.aborted).toBe(true);
    expect(words(client)).toEqual(['a'.repeat(100)]);
  });

  it('recordings do not count toward maxTotalBufferedBytes: live connections are not pushed out by finished answers', async () => {
    const t = await start({ maxTotalBufferedBytes: 64 * 1024, drainTimeout: 0 });
    for (let i = 0; i < 3; i++) {
      const { client, streamId } = await ask(t);
      const script = t.get(AnswerModel).of(streamId);
      for (let j = 0; j < 16; j++) script.push(`${j}`.padEnd(8 * 1024, 'w'));
      script.end();
      expect(await closeReason(client)).toBe('done');
      expect(words(client)).toHaveLength(16);
    }
    // 384 KiB recorded, six times the budget: a follower still replays one whole.
    const follower = await t.open(`/answer/${[...t.get(AnswerModel).scripts.keys()][0]}`);
    expect(await closeReason(follower)).toBe('done');
    expect(words(follower)).toHaveLength(16);
    expect(t.hub.stats().budgetDisconnects).toBe(0);
  });

  it('app.close(): a running stream may finish within drainTimeout while new ones are refused', async () => {
    const t = await start({ drainTimeout: 60_000 });
    const { client, streamId } = await ask(t);
    const script = t.get(AnswerModel).of(streamId);
    script.push('before');
    await client.waitFor(() => words(client).length === 1, 'a word');
    const closing = t.close();
    await until(async () => (await rawHttp(`${t.url}/answer`, { ...post, headers: { ...post.headers, accept: 'text/event-stream' } })).status === 503, 'new streams to be refused');
    script.push('after');
    script.end();
    expect(await closeReason(client)).toBe('done');
    expect(words(client)).toEqual(['before', 'after']);
    await closing;
    expect(script.signal.aborted).toBe(false);
  });

  it('app.close(): what still runs after drainTimeout is stopped with reason shutdown', async () => {
    const t = await start({ drainTimeout: 50 });
    const { client, streamId } = await ask(t);
    const script = t.get(AnswerModel).of(streamId);
    await t.close();
    expect(await closeReason(client)).toBe('shutdown');
    expect(script.signal.aborted).toBe(true);
  });
});

describe.each(platforms)('resumable and follow options fail at bootstrap when misplaced ($name)', (platform) => {
  const apps = useApps(platform);

  it('resumable on a global route', async () => {
    @Controller()
    class GlobalResumable {
      @Post('x')
      @SseConnection({ name: 'x', scope: 'global', resumable: true })
      x() {}
    }
    await expect(apps.start({ imports: [SseModule.forRoot()], controllers: [GlobalResumable] })).rejects.toThrow(/needs scope: 'local'/);
  });

  it('resumable on a route whose scope is the default global one', async () => {
    @Controller()
    class DefaultScope {
      @Post('x')
      @SseConnection({ name: 'x', resumable: true })
      x() {}
    }
    await expect(apps.start({ imports: [SseModule.forRoot()], controllers: [DefaultScope] })).rejects.toThrow(SseInvalidArgumentError);
  });

  it('follow on a POST route', async () => {
    @Controller()
    class PostFollow {
      @Post('x')
      @SseConnection({ name: 'x', follow: () => 'a' })
      x() {}
    }
    await expect(apps.start({ imports: [SseModule.forRoot()], controllers: [PostFollow] })).rejects.toThrow(/needs a GET route/);
  });

  it('follow with a global scope', async () => {
    @Controller()
    class GlobalFollow {
      @Get('x')
      @SseConnection({ name: 'x', scope: 'global', follow: () => 'a' })
      x() {}
    }
    await expect(apps.start({ imports: [SseModule.forRoot()], controllers: [GlobalFollow] })).rejects.toThrow(SseInvalidArgumentError);
  });
});
