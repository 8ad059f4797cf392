import { delay } from './fake-source.js';

export interface ChangeReport {
  /** Screenshots taken. */
  readonly shots: number;
  /** Different pictures among them. */
  readonly distinct: number;
  /** Consecutive screenshots that were identical. */
  readonly repeats: number;
}

/**
 * Takes a screenshot every `everyMs` for `forMs` (and at most 40) and reports how often the
 * picture changed: a live picture differs from one screenshot to the next.
 */
export async function watchPicture(grab: () => Promise<Uint8Array>, forMs = 3000, everyMs = 250): Promise<ChangeReport> {
  const seen = new Set<string>();
  let previous = '';
  let repeats = 0;
  let shots = 0;
  const end = Date.now() + forMs;
  while (shots < 40 && (shots < 2 || Date.now() < end)) {
    const shot = Buffer.from(await grab()).toString('base64');
    if (shot === previous) repeats++;
    previous = shot;
    seen.add(shot);
    shots++;
    await delay(everyMs);
  }
  return { shots, distinct: seen.size, repeats };
}
