import { Controller, Get, Header } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// From source (tests) the page sits beside this file; `npm start` runs the
// compiled copy in .sample-build/sample/, and the page stays in sample/.
const PUBLIC_DIR = [join(here, 'public'), join(here, '..', '..', 'sample', 'public')].find((dir) => existsSync(dir));

/**
 * Serves the sample's one page and its script and style: three fixed files,
 * read on each request so that an edit shows on reload. No static-files
 * dependency for three files.
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
