import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SseModuleOptions } from './interfaces/sse-module-options.interface.js';

export const {
  ConfigurableModuleClass: SseConfigurableModule,
  MODULE_OPTIONS_TOKEN: SSE_MODULE_OPTIONS,
  ASYNC_OPTIONS_TYPE: SSE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SseModuleOptions>()
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSseOptions')
  .build();
