/** What a viewer asks of any source camcast encodes: size, rate and JPEG quality. */
export interface EncodeOptions {
  readonly width?: number;
  readonly height?: number;
  /** Frames per second to produce (or to cap to, for sources with their own rate). */
  readonly fps?: number;
  /** JPEG quality 1-100, as in libjpeg and sharp. */
  readonly quality?: number;
}
