import { Controller, Get, Header } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// From source (tests) the page sits beside this file; `npm start` runs the
// compiled copy in .sample-build/sample/, and the page stays in sample/.
const PUBLIC_DIR = [join(here, 'public'), join(here, '..', '..', 'sample', 'public')].find((dir) => existsSync(dir));
// The browser client's source, from either place.
const CLIENT_ENTRY = [join(here, '..', 'lib', 'client.ts'), join(here, '..', '..', 'lib', 'client.ts')].find((file) => existsSync(file));
let clientModule: Promise<string> | undefined;

/**
 * Serves the sample's one page and its script and style: three fixed files,
 * read on each request so that an edit shows on reload (no static-files
 * dependency for three files), and `nestjs-sse-hub/client` as `/client.js`.
 */
@Controller()
export class PageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  page(): Promise<string> {
    return publicFile('index.html');
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): Promise<string> {
    return publicFile('app.js');
  }

  /**
   * `nestjs-sse-hub/client` as one ES module, bundled from `lib/client.ts`
   * once, when first asked for (esbuild, a dev dependency of this repository).
   * An app imports `nestjs-sse-hub/client` through its own bundler instead.
   */
  @Get('client.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  client(): Promise<string> {
    // A failed build is tried again on the next request.
    return (clientModule ??= bundleClient().catch((error: unknown) => {
      clientModule = undefined;
      throw error;
    }));
  }

  @Get('style.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  style(): Promise<string> {
    return publicFile('style.css');
  }
}

function publicFile(file: string): Promise<string> {
  if (!PUBLIC_DIR) throw new Error(`sample/public not found from ${here}`);
  return readFile(join(PUBLIC_DIR, file), 'utf8');
}

async function bundleClient(): Promise<string> {
  if (!CLIENT_ENTRY) throw new Error(`lib/client.ts not found from ${here}`);
  const { build } = await import('esbuild');
  const result = await build({ entryPoints: [CLIENT_ENTRY], bundle: true, format: 'esm', target: 'es2020', write: false, logLevel: 'silent' });
  return result.outputFiles[0].text;
}
