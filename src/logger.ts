/**
 * The library is quiet; the host decides where words go. The shape matches pino's and
 * console's `(message)` calls, so either can be passed as is.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
