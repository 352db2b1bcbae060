import type { ConfigurableModuleAsyncOptions } from '@nestjs/common';
import type { SseModuleOptions } from './sse-module-options.interface.js';

/** A class that builds the options, for `SseModule.forRootAsync({ useClass })`. */
export interface SseOptionsFactory {
  createSseOptions(): SseModuleOptions | Promise<SseModuleOptions>;
}

/** Options of `SseModule.forRootAsync()`: `useFactory` + `inject`, `useClass` or `useExisting`. */
export type SseModuleAsyncOptions = ConfigurableModuleAsyncOptions<SseModuleOptions, 'createSseOptions'>;
