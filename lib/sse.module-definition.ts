import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SseModuleOptions } from './interfaces/sse-module-options.interface.js';

/** `forRoot` / `forRootAsync` and the token of the options they register (ConfigurableModuleBuilder). */
export const { ConfigurableModuleClass: SseConfigurableModule, MODULE_OPTIONS_TOKEN: SSE_MODULE_OPTIONS } = new ConfigurableModuleBuilder<SseModuleOptions>()
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSseOptions')
  .build();
