import type { LoggerService } from '@nestjs/common';

/** One line the app logged. */
export interface LoggedLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  /** Everything else the logger was given (stack, context), joined. */
  rest: string;
}

/**
 * A Nest logger that keeps what it is given, so a test can check that
 * something was logged (and keep the console quiet while doing so).
 */
export class RecordingLogger implements LoggerService {
  readonly lines: LoggedLine[] = [];
  private waiters: Array<() => void> = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.record('fatal', message, rest);
  }

  /** The error lines whose message contains `text`. */
  errorsContaining(text: string): LoggedLine[] {
    return this.lines.filter((line) => line.level === 'error' && line.message.includes(text));
  }

  /** Resolves once a line satisfying `predicate` has been logged. */
  waitFor(predicate: (line: LoggedLine) => boolean, timeoutMs = 10_000): Promise<LoggedLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(predicate);
        if (!found) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for a log line; got ${JSON.stringify(this.lines.map((l) => l.message))}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  private record(level: LoggedLine['level'], message: unknown, rest: unknown[]): void {
    this.lines.push({ level, message: String(message), rest: rest.map(String).join(' ') });
    for (const waiter of [...this.waiters]) waiter();
  }
}
