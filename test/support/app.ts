import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';

/** A platform the e2e suite runs on. */
export interface Platform {
  name: string;
  createAdapter(): AbstractHttpAdapter;
}

export const express: Platform = { name: 'express', createAdapter: () => new ExpressAdapter() };

export const fastify: Platform = { name: 'fastify', createAdapter: () => new FastifyAdapter() };

/** Every platform the whole e2e suite must pass on. */
export const platforms: Platform[] = [express, fastify];

export interface TestApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** Options of `startApp`. */
export interface StartAppOptions {
  /** The app's logger (default: errors and warnings to the console); see `RecordingLogger`. */
  logger?: LoggerService | LogLevel[];
  /** Runs before listen, for what must be configured then (`enableCors`, Fastify hooks). */
  setup?: (app: INestApplication) => void | Promise<void>;
}

/** Boots a real Nest app on a real port (listen(0), loopback) and returns its base URL. */
export async function startApp(platform: Platform, metadata: ModuleMetadata, options: StartAppOptions = {}): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication(platform.createAdapter(), { logger: options.logger ?? ['error', 'warn'] });
  await options.setup?.(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** A plain HTTP request (fetch), with the body parsed when it is JSON. */
export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
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
