import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import {
  SseBroadcastLevelError,
  SseConnection,
  SseError,
  SseEventTooLargeError,
  SseHub,
  SseInvalidArgumentError,
  SseModule,
  type SseConnectionOptions,
  type SseEvent,
  type SseModuleOptions,
} from '../../lib/index.js';

/** Anything, typed as whatever the API expects: these rows are what a JavaScript caller could pass. */
const bad = <T>(value: unknown) => value as T;

async function hubWith(options: SseModuleOptions = {}): Promise<SseHub> {
  const moduleRef = await Test.createTestingModule({ imports: [SseModule.forRoot(options)] }).compile();
  return moduleRef.get(SseHub);
}

const SECRET = '0123456789abcdef';
const long = (n: number) => 'a'.repeat(n);
const circular: Record<string, unknown> = {};
circular.self = circular;

type HubCall = (hub: SseHub) => unknown;
type ErrorClass = new (...args: never[]) => SseError;

/** [what, call, error class, message pattern]: every bad input to the public SseHub API. */
const hubCases: Array<[string, HubCall, ErrorClass, RegExp]> = [
  ['empty name', (hub) => hub.send({ name: '' }, { data: 1 }), SseInvalidArgumentError, /name "" is invalid/],
  ['name of 257 characters', (hub) => hub.send({ name: long(257) }, { data: 1 }), SseInvalidArgumentError, /name "a+…" is invalid.*1–256/],
  ['name with LF', (hub) => hub.send({ name: 'a\nb' }, { data: 1 }), SseInvalidArgumentError, /control characters/],
  ['name with NUL', (hub) => hub.send({ name: 'a\0' }, { data: 1 }), SseInvalidArgumentError, /name "a\\u0000" is invalid/],
  ['name with DEL', (hub) => hub.send({ name: 'a\u007f' }, { data: 1 }), SseInvalidArgumentError, /name/],
  ['name with a lone surrogate', (hub) => hub.send({ name: 'a\ud800' }, { data: 1 }), SseInvalidArgumentError, /unpaired surrogates/],
  ['name that is a number', (hub) => hub.send({ name: bad(42) }, { data: 1 }), SseInvalidArgumentError, /name 42 is invalid/],
  ['one bad name among good', (hub) => hub.send({ name: ['ok', ''] }, { data: 1 }), SseInvalidArgumentError, /name "" is invalid/],
  ['empty name list', (hub) => hub.send({ name: [] }, { data: 1 }), SseInvalidArgumentError, /at least one name/],
  ['target with no name', (hub) => hub.send(bad({ group: 'g' }), { data: 1 }), SseInvalidArgumentError, /target must be an object with a name/],
  ['target undefined', (hub) => hub.send(bad(undefined), { data: 1 }), SseInvalidArgumentError, /target must be an object/],
  ['target null', (hub) => hub.close(bad(null)), SseInvalidArgumentError, /target must be an object/],
  ['empty group', (hub) => hub.send({ name: 'n', group: '' }, { data: 1 }), SseInvalidArgumentError, /group "" is invalid/],
  ['group with CR', (hub) => hub.send({ name: 'n', group: ['g', 'a\rb'] }, { data: 1 }), SseInvalidArgumentError, /group "a\\rb" is invalid/],
  ['group of 257 characters', (hub) => hub.count({ name: 'n', group: long(257) }), SseInvalidArgumentError, /group/],
  ['empty client id', (hub) => hub.send({ name: 'n', clientId: '' }, { data: 1 }), SseInvalidArgumentError, /client id "" is invalid/],
  ['client id with a tab', (hub) => hub.clientIds({ name: 'n', clientId: 'a\tb' }), SseInvalidArgumentError, /client id/],
  ['client id that is an object', (hub) => hub.close({ name: 'n', clientId: bad({}) }), SseInvalidArgumentError, /client id an object/],
  ['exists() without a client id', (hub) => hub.exists({ name: 'n' }), SseInvalidArgumentError, /exists\(\) needs a target with a clientId/],
  ['groups() of an empty name', (hub) => hub.groups(''), SseInvalidArgumentError, /name "" is invalid/],
  ['hasName() with LF', (hub) => hub.hasName('a\n'), SseInvalidArgumentError, /name/],
  ['event not an object', (hub) => hub.send({ name: 'n' }, bad<SseEvent>('hello')), SseInvalidArgumentError, /must be an object with a data property/],
  ['event null', (hub) => hub.send({ name: 'n' }, bad<SseEvent>(null)), SseInvalidArgumentError, /data property/],
  ['event without data', (hub) => hub.send({ name: 'n' }, bad<SseEvent>({ event: 'x' })), SseInvalidArgumentError, /data property/],
  ['event type with LF', (hub) => hub.send({ name: 'n' }, { event: 'a\nevent: evil', data: 1 }), SseInvalidArgumentError, /event event .* is refused/],
  ['event type with CR', (hub) => hub.send({ name: 'n' }, { event: 'a\r', data: 1 }), SseInvalidArgumentError, /without CR, LF, NUL/],
  ['event type with NUL', (hub) => hub.send({ name: 'n' }, { event: 'a\0', data: 1 }), SseInvalidArgumentError, /refused/],
  ['empty event type', (hub) => hub.send({ name: 'n' }, { event: '', data: 1 }), SseInvalidArgumentError, /not empty/],
  ['reserved event type sse.open', (hub) => hub.send({ name: 'n' }, { event: 'sse.open', data: 1 }), SseInvalidArgumentError, /not starting with "sse."/],
  ['event id with LF', (hub) => hub.send({ name: 'n' }, { id: '1\ndata: x', data: 1 }), SseInvalidArgumentError, /event id .* is refused/],
  ['event id with NUL', (hub) => hub.send({ name: 'n' }, { id: '1\0', data: 1 }), SseInvalidArgumentError, /event id/],
  ['event id that is a number', (hub) => hub.send({ name: 'n' }, { id: bad(1), data: 1 }), SseInvalidArgumentError, /event id 1 is refused/],
  ['event id of 1025 characters', (hub) => hub.send({ name: 'n' }, { id: long(1025), data: 1 }), SseInvalidArgumentError, /longer than 1024/],
  ['bad event in a batch', (hub) => hub.send({ name: 'n' }, [{ data: 1 }, { event: '\n', data: 2 }]), SseInvalidArgumentError, /refused/],
  ['event retry -1', (hub) => hub.send({ name: 'n' }, { retry: -1, data: 1 }), SseInvalidArgumentError, /event retry -1 is invalid.*non-negative integer/],
  ['event retry 1.5', (hub) => hub.send({ name: 'n' }, { retry: 1.5, data: 1 }), SseInvalidArgumentError, /event retry 1.5/],
  ['event retry NaN', (hub) => hub.send({ name: 'n' }, { retry: NaN, data: 1 }), SseInvalidArgumentError, /event retry NaN/],
  ['event retry Infinity', (hub) => hub.send({ name: 'n' }, { retry: Infinity, data: 1 }), SseInvalidArgumentError, /event retry Infinity/],
  ['event retry as a string', (hub) => hub.send({ name: 'n' }, { retry: bad('100'), data: 1 }), SseInvalidArgumentError, /event retry "100"/],
  ['data a function', (hub) => hub.send({ name: 'n' }, { data: () => 1 }), SseInvalidArgumentError, /cannot be JSON-encoded: function/],
  ['data a BigInt', (hub) => hub.send({ name: 'n' }, { data: 1n }), SseInvalidArgumentError, /cannot be JSON-encoded/],
  ['data circular', (hub) => hub.send({ name: 'n' }, { data: circular }), SseInvalidArgumentError, /cannot be JSON-encoded/],
  ['event replay a string', (hub) => hub.send({ name: 'n' }, { replay: bad('newest'), data: 1 }), SseInvalidArgumentError, /event replay "newest" is invalid: expected true, false or 'latest'/],
  ['event replay a number', (hub) => hub.send({ name: 'n' }, { replay: bad(0), data: 1 }), SseInvalidArgumentError, /event replay 0/],
  ['close options a string', (hub) => hub.close({ name: 'n' }, bad('now')), SseInvalidArgumentError, /close options "now" is invalid/],
  ['close reconnect not a boolean', (hub) => hub.close({ name: 'n' }, { reconnect: bad('no') }), SseInvalidArgumentError, /close option reconnect "no" is invalid: expected a boolean/],
  ['string data with a lone surrogate', (hub) => hub.send({ name: 'n' }, { data: 'a\udc00b' }), SseInvalidArgumentError, /unpaired UTF-16 surrogate/],
  ['setBroadcastLevel() with an unknown level', (hub) => hub.setBroadcastLevel('n', bad('everyone')), SseInvalidArgumentError, /broadcast level "everyone" is invalid/],
  ['setBroadcastLevel() of an empty name', (hub) => hub.setBroadcastLevel('', 'name'), SseInvalidArgumentError, /name "" is invalid/],
  ['newClientId() empty', (hub) => hub.newClientId(''), SseInvalidArgumentError, /client id "" is invalid/],
  ['newClientId() with LF', (hub) => hub.newClientId('a\nb'), SseInvalidArgumentError, /client id/],
  ['newClientId() of 257 characters', (hub) => hub.newClientId(long(257)), SseInvalidArgumentError, /client id/],
];

describe('validation table: SseHub', () => {
  let hub: SseHub;
  beforeAll(async () => {
    hub = await hubWith();
  });

  it.each(hubCases)('%s → typed error', async (_what, call, errorClass, message) => {
    // Async methods reject, sync ones throw: both are the same refusal to the caller.
    const outcome = (async () => call(hub))();
    await expect(outcome).rejects.toBeInstanceOf(errorClass);
    await expect(outcome).rejects.toThrow(message);
    await expect(outcome).rejects.toThrow(/^nestjs-sse-hub: /);
  });

  it.each([
    ['isClientIdValid("")', (h: SseHub) => h.isClientIdValid('')],
    ['isClientIdValid("a\\nb")', (h: SseHub) => h.isClientIdValid('a\nb')],
    ['isClientIdValid(42)', (h: SseHub) => h.isClientIdValid(bad(42))],
    ['isClientIdSigned(42)', (h: SseHub) => h.isClientIdSigned(bad(42))],
    ['isClientIdSigned(undefined)', (h: SseHub) => h.isClientIdSigned(bad(undefined))],
  ])('%s answers false (a predicate does not throw)', (_what, call) => {
    expect(call(hub)).toBe(false);
  });
});

describe('validation table: limits and levels configured', () => {
  it('an event larger than maxEventBytes → SseEventTooLargeError with size and limit', async () => {
    const hub = await hubWith({ maxEventBytes: 64 });
    await expect(hub.send({ name: 'n' }, { data: long(100) })).rejects.toMatchObject({
      name: 'SseEventTooLargeError',
      size: 'data: '.length + 100 + 2,
      limit: 64,
    });
    await expect(hub.send({ name: 'n' }, { data: long(100) })).rejects.toBeInstanceOf(SseEventTooLargeError);
    await expect(hub.send({ name: 'n' }, { data: long(100) })).rejects.toThrow(/exceeds maxEventBytes \(64\)/);
    await expect(hub.send({ name: 'n' }, { data: long(10) })).resolves.toEqual({ delivered: 0 });
  });

  it('a send wider than the broadcast level → SseBroadcastLevelError', async () => {
    const hub = await hubWith({ broadcastLevels: { n: 'clientId' } });
    await expect(hub.send({ name: 'n' }, { data: 1 })).rejects.toBeInstanceOf(SseBroadcastLevelError);
    await expect(hub.send({ name: 'n', group: 'g' }, { data: 1 })).rejects.toThrow(/needs a client id/);
  });
});

/** [what, options]: every bad module option; each must fail the app's start. */
const optionCases: Array<[string, unknown, RegExp]> = [
  ['options a string', 'fast', /option options "fast" is invalid: expected an object/],
  ['options an array', [], /option options/],
  ['unknown option (typo)', { maxConection: 5 }, /unknown module option "maxConection"; known options: .*maxConnections/],
  ['defaultScope unknown', { defaultScope: 'everywhere' }, /scope "everywhere" is invalid/],
  ['retry negative', { retry: -1 }, /option retry -1 is invalid/],
  ['retry fractional', { retry: 1.5 }, /option retry 1.5/],
  ['retry a string', { retry: '1000' }, /option retry "1000"/],
  ['keepAlive negative', { keepAlive: -5 }, /option keepAlive -5/],
  ['keepAlive past what a timer holds', { keepAlive: 2 ** 31 }, /option keepAlive 2147483648 is invalid: expected at most 2147483647/],
  ['signing null', { signing: null }, /option signing null is invalid: expected an object with a secret/],
  ['signing secret too short', { signing: { secret: 'short' } }, /signing.secret "short" is invalid: expected a string of at least 16/],
  ['signing strict not a boolean', { signing: { secret: SECRET, strict: 'yes' } }, /option signing.strict "yes" is invalid: expected a boolean/],
  ['broadcastLevels a string', { broadcastLevels: 'name' }, /option broadcastLevels "name" is invalid/],
  ['broadcastLevels with an unknown level', { broadcastLevels: { events: 'all' } }, /broadcast level "all" is invalid/],
  ['broadcastLevels with an empty name', { broadcastLevels: { '': 'name' } }, /name "" is invalid/],
  ['maxConnections 0', { maxConnections: 0 }, /option maxConnections 0 is invalid: expected an integer of at least 1/],
  ['maxConnections negative', { maxConnections: -1 }, /option maxConnections -1/],
  ['maxConnections fractional', { maxConnections: 1.5 }, /option maxConnections 1.5/],
  ['maxConnections a string', { maxConnections: '10' }, /option maxConnections "10"/],
  ['maxConnections NaN', { maxConnections: NaN }, /option maxConnections NaN/],
  ['maxConnectionsPerName 0', { maxConnectionsPerName: 0 }, /option maxConnectionsPerName 0/],
  ['maxEventBytes 0', { maxEventBytes: 0 }, /option maxEventBytes 0/],
  ['overload unknown', { overload: 'drop' }, /option overload "drop" is invalid: expected 'retry' or 'reject'/],
  ['reconnectSpread negative', { reconnectSpread: -1 }, /option reconnectSpread -1 is invalid/],
  ['reconnectSpread fractional', { reconnectSpread: 0.5 }, /option reconnectSpread 0.5/],
  ['maxConnectionAge 0', { maxConnectionAge: 0 }, /option maxConnectionAge 0 is invalid: expected an integer of at least 1/],
  ['maxConnectionAge past what a timer holds', { maxConnectionAge: 2 ** 31 }, /option maxConnectionAge 2147483648 is invalid: expected at most/],
  ['maxEventBytes Infinity', { maxEventBytes: Infinity }, /option maxEventBytes Infinity/],
  ['compression a string', { compression: 'gzip' }, /option compression "gzip" is invalid: expected a boolean/],
  ['drainTimeout negative', { drainTimeout: -1 }, /option drainTimeout -1 is invalid/],
  ['drainTimeout a string', { drainTimeout: '30s' }, /option drainTimeout "30s" is invalid/],
  ['maxRecordedBytes 0', { maxRecordedBytes: 0 }, /option maxRecordedBytes 0 is invalid: expected an integer of at least 1/],
];

describe('validation table: SseModule.forRoot / forRootAsync options', () => {
  it.each(optionCases)('forRoot: %s → the app does not start', async (_what, options, message) => {
    const start = hubWith(bad(options));
    await expect(start).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(start).rejects.toThrow(message);
  });

  it.each(optionCases)('forRootAsync: %s → the app does not start', async (_what, options, message) => {
    const start = Test.createTestingModule({
      imports: [SseModule.forRootAsync({ useFactory: async () => bad(options) })],
    }).compile();
    await expect(start).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(start).rejects.toThrow(message);
  });

  it('good options through forRootAsync (useFactory, useClass) are accepted', async () => {
    class Options {
      createSseOptions(): SseModuleOptions {
        return { retry: 1000, maxConnections: 10, maxEventBytes: 1024 };
      }
    }
    for (const imports of [
      [SseModule.forRootAsync({ useFactory: () => ({ keepAlive: 0, maxConnectionsPerName: 2 }) })],
      [SseModule.forRootAsync({ useClass: Options })],
    ]) {
      const moduleRef = await Test.createTestingModule({ imports }).compile();
      await expect(moduleRef.get(SseHub).count()).resolves.toBe(0);
    }
  });

  it('good options are accepted (the table above is not refusing everything)', async () => {
    const hub = await hubWith({
      defaultScope: 'local',
      retry: 0,
      keepAlive: 2 ** 31 - 1,
      signing: { secret: SECRET, strict: true },
      broadcastLevels: { '*': 'group', events: 'name' },
      maxConnections: 1,
      maxConnectionsPerName: 1,
      maxEventBytes: 1,
      overload: 'reject',
      reconnectSpread: 0,
      maxConnectionAge: 60_000,
    });
    expect(hub.getBroadcastLevel('events')).toBe('name');
    expect(hub.getBroadcastLevel('other')).toBe('group');
  });
});

/** [what, options]: every bad `@SseConnection()` option; each throws where the class is declared. */
const routeCases: Array<[string, unknown, RegExp]> = [
  ['no options', undefined, /@SseConnection\(\) undefined is invalid: expected an object with a name/],
  ['no name', {}, /name undefined is invalid/],
  ['empty name', { name: '' }, /name "" is invalid/],
  ['name with LF', { name: 'a\n' }, /name "a\\n" is invalid/],
  ['name of 257 characters', { name: long(257) }, /name/],
  ['unknown scope', { name: 'n', scope: 'session' }, /scope "session" is invalid/],
  ['retry negative', { name: 'n', retry: -1 }, /route retry -1 is invalid/],
  ['retry fractional', { name: 'n', retry: 0.5 }, /route retry 0.5/],
  ['compression a string', { name: 'n', compression: 'gzip' }, /route compression "gzip" is invalid: expected a boolean/],
  ['empty group', { name: 'n', group: '' }, /group "" is invalid/],
  ['group a number', { name: 'n', group: 42 }, /option group 42 is invalid: expected a string or a function/],
  ['clientId a string', { name: 'n', clientId: 'abc' }, /option clientId "abc" is invalid: expected a function/],
  ['resumable a string', { name: 'n', scope: 'local', resumable: 'yes' }, /option resumable "yes" is invalid: expected true or \{ ttl\?, id\?, maxDuration\? \}/],
  ['resumable with an unknown option', { name: 'n', scope: 'local', resumable: { tll: 1 } }, /option resumable.tll/],
  ['resumable ttl negative', { name: 'n', scope: 'local', resumable: { ttl: -1 } }, /option resumable.ttl -1 is invalid/],
  ['resumable maxDuration fractional', { name: 'n', scope: 'local', resumable: { maxDuration: 1.5 } }, /option resumable.maxDuration 1.5/],
  ['resumable id a string', { name: 'n', scope: 'local', resumable: { id: 'x' } }, /option resumable.id "x" is invalid: expected a function/],
  ['follow a string', { name: 'n', follow: 'stream-1' }, /option follow "stream-1" is invalid: expected a function/],
];

describe('validation table: @SseConnection() options', () => {
  it.each(routeCases)('%s → typed error at declaration', (_what, options, message) => {
    const declare = () => SseConnection(bad<SseConnectionOptions>(options));
    expect(declare).toThrow(SseInvalidArgumentError);
    expect(declare).toThrow(message);
  });
});
