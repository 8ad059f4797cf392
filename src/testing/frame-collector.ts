import type { FrameInput } from '../frame.js';
import type { FrameSink } from '../sources/source.js';

/** A sink that keeps what a source hands it: each frame with its arrival time, failures, ends. */
export function frameCollector() {
  const frames: Array<FrameInput & { at: number }> = [];
  const failed: Error[] = [];
  let ended = 0;
  const sink: FrameSink = {
    frame: (frame) => frames.push({ ...frame, at: performance.now() }),
    failed: (error) => failed.push(error),
    ended: () => ended++,
  };
  return { sink, frames, failed, ended: () => ended };
}
