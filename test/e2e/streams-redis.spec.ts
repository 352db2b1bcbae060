import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseModule } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { platforms, startApp, useCluster, type TestApp } from '../support/app.js';
import { AnswerController, AnswerModel } from '../support/answer-model.js';
import { buildFixtures, ClusterProcess } from '../support/cluster-process.js';
import { rawHttp } from '../support/raw-http.js';
import { describeRedis, redisClient, uniquePrefix, useRedisServer } from '../support/redis.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { SseClientPool, type SseClient } from '../support/sse-client.js';
import { until } from '../support/wait.js';

const post = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{}' };
const PRESENCE_TTL = 1500;

async function ask(t: TestApp, path = '/answer'): Promise<{ client: SseClient; streamId: string }> {
  const client = await t.open(path, post);
  const { streamId } = (await client.opened()) as { streamId?: string };
  expect(streamId).toBeDefined();
  return { client, streamId: streamId! };
}

const words = (client: SseClient) => client.dataOf('message');
const closeReason = async (client: SseClient) => JSON.parse((await client.next('sse.close')).data).reason as string;
const status = async (url: string) => (await rawHttp(url, { headers: { accept: 'text/event-stream' } })).status;

describeRedis('resumable streams on Redis, two instances', () => {
  const redis = useRedisServer();

  describe.each(platforms)('$name', (platform) => {
    let keyPrefix = '';
    // A prefix per test, shared by both instances (this hook runs before the cluster's own).
    beforeEach(() => {
      keyPrefix = uniquePrefix(`streams-${platform.name}`);
    });
    const [a, b] = useCluster(
      platform,
      2,
      () => ({
        imports: [SseModule.forRoot({ transport: new RedisTransport({ url: redis.url, keyPrefix, presenceTtl: PRESENCE_TTL }), drainTimeout: 0 })],
        controllers: [AnswerController],
        providers: [AnswerModel],
      }),
      { perTest: true },
    );

    it('the client of a POST stream leaves mid-answer; the handler completes; followers on the other instance get exactly the rest, everything, or the rest after done; after ttl, 404', async () => {
      const { client, streamId } = await ask(a);
      const script = a.get(AnswerModel).of(streamId);
      script.push('one', 'two');
      await client.waitFor(() => words(client).length === 2, 'two words');
      const seen = client.lastEventId!;
      client.close();
      await client.end();
      script.push('three');
      await until(() => script.yielded === 3, 'the third word');

      const resumed = await b.open(`/answer/${streamId}`, { headers: { 'last-event-id': seen } });
      const fromStart = await b.open(`/answer/${streamId}`);
      expect(((await resumed.opened()) as { streamId?: string }).streamId).toBe(streamId);
      await resumed.waitFor(() => words(resumed).length === 1, 'the rest so far');
      await fromStart.waitFor(() => words(fromStart).length === 3, 'everything so far');
      script.push('four');
      script.end();
      expect(await closeReason(resumed)).toBe('done');
      expect(words(resumed)).toEqual(['three', 'four']);
      expect(resumed.eventsOf('sse.gap')).toEqual([]);
      expect(await closeReason(fromStart)).toBe('done');
      expect(words(fromStart)).toEqual(['one', 'two', 'three', 'four']);
      // Ids are the same for every follower on every instance.
      expect(resumed.eventsOf('message').map((e) => e.id)).toEqual(fromStart.eventsOf('message').slice(2).map((e) => e.id));
      expect(script.signal.aborted).toBe(false);

      const late = await b.open(`/answer/${streamId}`, { headers: { 'last-event-id': seen } });
      expect(await closeReason(late)).toBe('done');
      expect(words(late)).toEqual(['three', 'four']);
      // A reconnect offering the last id (the stop token of done) is answered 204 on either instance.
      expect((await rawHttp(`${b.url}/answer/${streamId}`, { headers: { accept: 'text/event-stream', 'last-event-id': late.lastEventId! } })).status).toBe(204);

      const brief = await ask(a, '/brief');
      a.get(AnswerModel).of(brief.streamId).end();
      expect(await closeReason(brief.client)).toBe('done');
      await until(async () => (await status(`${b.url}/brief/${brief.streamId}`)) === 404, 'the recording to expire');
      expect(await status(`${b.url}/answer/unknown`)).toBe(404);
    });

    it('the recording is one Redis key on its name’s shard', async () => {
      const { client, streamId } = await ask(a);
      a.get(AnswerModel).of(streamId).push('x');
      a.get(AnswerModel).of(streamId).end();
      expect(await closeReason(client)).toBe('done');
      const inspect = redisClient(redis.url);
      try {
        const keys = await inspect.keys(`${keyPrefix}*rec:*`);
        expect(keys).toEqual([`${keyPrefix}{answer}:rec:${encodeURIComponent(streamId)}`]);
      } finally {
        inspect.disconnect();
      }
    });

    it('stopStream from the other instance aborts the producer and closes every follower with stopped; later follows get the recording, then stopped', async () => {
      const { client, streamId } = await ask(a);
      const script = a.get(AnswerModel).of(streamId);
      script.push('one');
      await client.waitFor(() => words(client).length === 1, 'a word');
      const onA = await a.open(`/answer/${streamId}`);
      const onB = await b.open(`/answer/${streamId}`);
      await onB.waitFor(() => words(onB).length === 1, 'a word');
      expect(await b.hub.stopStream('answer', streamId)).toBe(true);
      for (const follower of [client, onA, onB]) expect(await closeReason(follower)).toBe('stopped');
      // Aborted on instance a before the stream's last frame was written.
      expect(script.signal.aborted).toBe(true);
      expect(await b.hub.stopStream('answer', streamId)).toBe(false);
      expect(await b.hub.stopStream('answer', 'unknown')).toBe(false);
      const later = await b.open(`/answer/${streamId}`);
      expect(await closeReason(later)).toBe('stopped');
      expect(words(later)).toEqual(['one']);
    });

    it('an id taken on one instance answers 409 on the other', async () => {
      const first = await a.open('/named', { ...post, headers: { ...post.headers, 'x-answer-id': 'conv-1' } });
      await first.opened();
      const second = await rawHttp(`${b.url}/named`, { ...post, headers: { ...post.headers, accept: 'text/event-stream', 'x-answer-id': 'conv-1' } });
      expect(second.status).toBe(409);
      a.get(AnswerModel).of('conv-1').end();
      expect(await closeReason(first)).toBe('done');
    });
  });
});

@Controller()
class FollowController {
  @Get('answer/:id')
  @SseConnection({ name: 'answer', follow: (req) => req.params.id })
  follow() {}
}

describeRedis('resumable streams on Redis: the producing instance dies', () => {
  beforeAll(() => buildFixtures(), 120_000);
  const redis = useRedisServer();
  const pool = new SseClientPool();
  let producer: ClusterProcess | undefined;
  let follower: TestApp | undefined;
  afterEach(async () => {
    await pool.closeAll();
    await producer?.kill();
    await follower?.close();
  });

  it('followers get sse.close lost within the presence timeout; later follows get the recording, then lost', async () => {
    const keyPrefix = uniquePrefix('streams-lost');
    producer = await ClusterProcess.start('app', { REDIS_URL: redis.url, KEY_PREFIX: keyPrefix, PRESENCE_TTL: String(PRESENCE_TTL) });
    follower = await startApp(platforms[0], {
      imports: [
        SseModule.forRoot({
          transport: new RedisTransport({ url: redis.url, keyPrefix, presenceTtl: PRESENCE_TTL }),
          signing: { secret: 'one secret shared by every instance' },
          keepAlive: 0,
        }),
      ],
      controllers: [FollowController],
    });
    const client = await pool.open(`${producer.url}/answer`, post);
    const { streamId } = (await client.opened()) as { streamId?: string };
    await client.waitFor(() => words(client).length === 2, 'two words');
    const live = await pool.open(`${follower.url}/answer/${streamId}`);
    await live.waitFor(() => words(live).length === 2, 'the recording');
    await producer.kill();
    // Told within the presence timeout (the wait is bounded by the client's own).
    expect(await closeReason(live)).toBe('lost');
    const later = await pool.open(`${follower.url}/answer/${streamId}`);
    expect(await closeReason(later)).toBe('lost');
    expect(words(later)).toEqual(['w1', 'w2']);
  }, 60_000);
});

/**
 * The same recordings on a 3-master Redis Cluster: the stream's key and its
 * sharded channel live on its name's shard, so the scripts and SPUBLISH run
 * where they are declared, and followers and stops cross instances as on one Redis.
 */
describeRedis('resumable streams on a Redis Cluster, two instances', () => {
  const servers = useRedisCluster(3);
  const keyPrefix = uniquePrefix('streams-cluster');
  const [a, b] = useCluster(platforms[0], 2, () => ({
    imports: [SseModule.forRoot({ transport: new RedisTransport({ cluster: servers.cluster.seeds, keyPrefix }), drainTimeout: 0 })],
    controllers: [AnswerController],
    providers: [AnswerModel],
  }));

  it('a follower on the other instance gets everything, then done; stopStream crosses instances', async () => {
    const { client, streamId } = await ask(a);
    const script = a.get(AnswerModel).of(streamId);
    script.push('one', 'two');
    const follower = await b.open(`/answer/${streamId}`);
    await follower.waitFor(() => words(follower).length === 2, 'two words');
    script.push('three');
    script.end();
    expect(await closeReason(follower)).toBe('done');
    expect(words(follower)).toEqual(['one', 'two', 'three']);
    expect(await closeReason(client)).toBe('done');

    const second = await ask(a);
    a.get(AnswerModel).of(second.streamId).push('x');
    const onB = await b.open(`/answer/${second.streamId}`);
    await onB.waitFor(() => words(onB).length === 1, 'a word');
    expect(await b.hub.stopStream('answer', second.streamId)).toBe(true);
    expect(await closeReason(onB)).toBe('stopped');
    expect(await closeReason(second.client)).toBe('stopped');
    expect(await b.hub.stopStream('answer', second.streamId)).toBe(false);
  });
});
