import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel, ModuleMetadata, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { SseHub } from '../../lib/index.js';
import { untilNoConnections } from './hub.js';
import { SseClientPool, type Connected, type SseClient, type SseClientOptions } from './sse-client.js';

/** A platform the e2e suite runs on. */
export interface Platform {
  name: string;
  createAdapter(): AbstractHttpAdapter;
  /** `https` for a TLS server (the URL a test gets); default `http`. */
  scheme?: 'http' | 'https';
}

export const express: Platform = { name: 'express', createAdapter: () => new ExpressAdapter() };

export const fastify: Platform = { name: 'fastify', createAdapter: () => new FastifyAdapter() };

/** Every platform the whole e2e suite must pass on. */
export const platforms: Platform[] = [express, fastify];

/** Options of `startApp`, `useApp` and `useApps`. */
export interface StartAppOptions {
  /** The app's logger (default: errors and warnings to the console); see `RecordingLogger`. */
  logger?: LoggerService | LogLevel[];
  /** Runs before listen, for what must be configured then (`enableCors`, Fastify hooks). */
  setup?: (app: INestApplication) => void | Promise<void>;
  /** Listen on this port (default 0: a free one); a restart test reuses the port of the app it replaces. */
  port?: number;
}

type Answer = { status: number; body: any; headers: Headers };
type RequestInit = { method?: string; headers?: Record<string, string>; body?: unknown };

/** A real Nest app listening on loopback, and real clients of it. */
export interface TestApp {
  app: INestApplication;
  /** Base URL, `http://127.0.0.1:<port>` (`https://` on a TLS platform). */
  url: string;
  /** The app's `SseHub`. */
  hub: SseHub;
  /** `app.get(token)`. */
  get<T>(token: Type<T> | string | symbol): T;
  /** Opens an SSE request to `path` (the pool closes it after the test); resolves at the response head. */
  open(path: string, options?: SseClientOptions): Promise<SseClient>;
  /** Opens an SSE request to `path` and waits for its `sse.open`; fails at once when the answer is no stream. */
  connect(path: string, options?: SseClientOptions): Promise<Connected>;
  /** A plain HTTP request to `path` (fetch). */
  request(path: string, init?: RequestInit): Promise<Answer>;
  /** Closes the app (once; later calls wait for the first). Its clients stay open, to see how it ended them. */
  close(): Promise<void>;
}

/**
 * Boots a real Nest app on a real port (listen(0), loopback). Clients it opens
 * go to `pool` (its own when none is given). Prefer `useApp` / `useApps`,
 * which register the hooks that close clients and apps.
 */
export async function startApp(
  platform: Platform,
  metadata: ModuleMetadata,
  options: StartAppOptions = {},
  pool = new SseClientPool(),
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication(platform.createAdapter(), { logger: options.logger ?? ['error', 'warn'] });
  await options.setup?.(app);
  await app.listen(options.port ?? 0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `${platform.scheme ?? 'http'}://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    get hub() {
      return app.get(SseHub);
    },
    get: (token) => app.get(token),
    open: (path, clientOptions) => pool.open(`${url}${path}`, clientOptions),
    connect: (path, clientOptions) => pool.connect(`${url}${path}`, clientOptions),
    request: (path, init) => request(`${url}${path}`, init),
    close: () => (closing ??= app.close()),
  };
}

/** Starts apps inside tests; `useApps` closes them and their clients. */
export interface AppStarter {
  /** Starts an app; it is closed after the test (or after the describe, for one started in `beforeAll`). */
  start(metadata: ModuleMetadata, options?: StartAppOptions): Promise<TestApp>;
  /** Where the clients of these apps are kept until they are closed after each test. */
  readonly pool: SseClientPool;
}

/**
 * Registers the hooks of a describe whose tests start their own apps (other
 * options per test, a shutdown, a restart): after each test, every client
 * opened through them is closed, then every app started during the test.
 */
export function useApps(platform: Platform, defaults: StartAppOptions = {}): AppStarter {
  const pool = new SseClientPool();
  const started: TestApp[] = [];
  const startedInTest: TestApp[] = [];
  let inTest = false;
  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    await pool.closeAll();
    for (const app of startedInTest.splice(0).reverse()) await app.close();
  });
  afterAll(async () => {
    await pool.closeAll();
    for (const app of started.splice(0).reverse()) await app.close();
  });
  return {
    pool,
    async start(metadata, options = {}) {
      const app = await startApp(platform, metadata, { ...defaults, ...options }, pool);
      (inTest ? startedInTest : started).push(app);
      return app;
    },
  };
}

/** Options of `useApp` and `useCluster`. */
export interface UseAppOptions extends StartAppOptions {
  /** One app per test instead of one per describe (default false). */
  perTest?: boolean;
  /** After each test, wait until no connection is open, local ones included (default true; see `untilNoConnections`). */
  settle?: boolean;
}

/**
 * The e2e suites' app helper (as better-sse's `testUtils`): registers the
 * hooks that boot a real Nest app on loopback before the describe's tests (or
 * each test), close every client opened through it after each test (then wait
 * until none is open on the server), and close the app at the end. Returns an
 * accessor to the running app: `ctx.url`, `ctx.hub`, `ctx.connect(path)`, ...
 * `metadata` is a function so that it may use what earlier hooks prepared
 * (a Redis URL).
 */
export function useApp(platform: Platform, metadata: () => ModuleMetadata, options: UseAppOptions = {}): TestApp {
  return useCluster(platform, 1, metadata, options)[0];
}

/**
 * `useApp` for `size` instances of one app (a cluster on a shared transport):
 * `metadata(i)` configures instance `i`. Clients of every instance are closed
 * together after each test, before any instance is asked to count none.
 */
export function useCluster(
  platform: Platform,
  size: number,
  metadata: (instance: number) => ModuleMetadata,
  options: UseAppOptions = {},
): TestApp[] {
  const apps = useApps(platform);
  const current: Array<TestApp | undefined> = [];
  (options.perTest ? beforeEach : beforeAll)(async () => {
    for (let i = 0; i < size; i++) current[i] = await apps.start(metadata(i), options);
  });
  afterEach(async () => {
    await apps.pool.closeAll();
    if (options.settle === false || options.perTest) return;
    for (const app of current) if (app) await untilNoConnections(app.hub);
  });
  return Array.from({ length: size }, (_, i) => accessor(() => current[i]));
}

/** A `TestApp` that stands for whichever app `get` returns when it is used. */
function accessor(get: () => TestApp | undefined): TestApp {
  const running = (): TestApp => {
    const app = get();
    if (!app) throw new Error('useApp: the app runs only inside tests and hooks that come after useApp()');
    return app;
  };
  return {
    get app() {
      return running().app;
    },
    get url() {
      return running().url;
    },
    get hub() {
      return running().hub;
    },
    get: (token) => running().get(token),
    open: (path, clientOptions) => running().open(path, clientOptions),
    connect: (path, clientOptions) => running().connect(path, clientOptions),
    request: (path, init) => running().request(path, init),
    close: () => running().close(),
  };
}

/** A plain HTTP request (fetch), with the body parsed when it is JSON. */
export async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    // Content-Type only with a body: Fastify answers 400 to an empty JSON body.
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body, headers: response.headers };
}
