/**
 * Every error camcast raises on purpose carries a stable `code` from this one closed list, so
 * callers branch on codes (never on message text) and the HTTP layer maps codes to statuses in
 * one place. Messages name the input and say what to do.
 */
export const ErrorCodes = [
  'BAD_OPTION',
  'BAD_FRAME',
  'FFMPEG_NOT_FOUND',
  'SOURCE_NOT_FOUND',
  'SOURCE_START_FAILED',
  'SOURCE_FAILED',
  'SOURCE_ENDED',
  'SOURCE_STALLED',
  'NO_FRAME',
  'PORT_IN_USE',
  'LISTEN_FAILED',
  'CLOSED',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class CamcastError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CamcastError';
    this.code = code;
  }
}

export function isCamcastError(err: unknown, code?: ErrorCode): err is CamcastError {
  return err instanceof CamcastError && (code === undefined || err.code === code);
}

/** One line for a human: the message of a CamcastError, or a generic form of anything else. */
export function describeError(err: unknown): string {
  if (err instanceof CamcastError) return err.message;
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
