import type { Logger } from '../logger.js';

/** The CLI's voice: one line per message on stderr, prefixed with the time. */
export function consoleLogger(level: 'quiet' | 'info' | 'debug', stream: NodeJS.WritableStream = process.stderr): Logger {
  const line = (tag: string, message: string) => stream.write(`${new Date().toISOString().slice(11, 23)} ${tag}${message}\n`);
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
