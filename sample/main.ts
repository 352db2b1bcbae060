import 'reflect-metadata';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { AppModule } from './app.module.js';

/** SSE_PLATFORM=express (default) or fastify; the library behaves the same on both. */
async function createAdapter(platform: string): Promise<AbstractHttpAdapter> {
  if (platform === 'express') return new (await import('@nestjs/platform-express')).ExpressAdapter();
  if (platform === 'fastify') return new (await import('@nestjs/platform-fastify')).FastifyAdapter();
  throw new Error(`SSE_PLATFORM must be "express" or "fastify", got ${JSON.stringify(platform)}`);
}

async function bootstrap(): Promise<void> {
  const platform = process.env.SSE_PLATFORM ?? 'express';
  const app = await NestFactory.create(AppModule, await createAdapter(platform));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  console.log(`nestjs-sse-hub sample (${platform}) on http://localhost:${port}`);
}

void bootstrap();
