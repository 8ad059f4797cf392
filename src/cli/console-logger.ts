import type { Logger } from '../logger.js';

/**
 * The CLI's voice: one line per message on stderr, prefixed with the local time of day (the
 * clock on the wall of whoever reads it; journald and docker logs add the date themselves).
 * `quiet` keeps warnings and errors.
 */
export function consoleLogger(level: 'quiet' | 'info' | 'debug', stream: NodeJS.WritableStream = process.stderr): Logger {
  const line = (tag: string, message: string) => stream.write(`${timeOfDay(new Date())} ${tag}${message}\n`);
  return {
    debug: (m) => {
      if (level === 'debug') line('debug: ', m);
    },
    info: (m) => {
      if (level !== 'quiet') line('', m);
    },
    warn: (m) => line('warning: ', m),
    error: (m) => line('error: ', m),
  };
}

/** HH:MM:SS.mmm in the local time zone. */
export function timeOfDay(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}
