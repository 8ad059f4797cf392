/**
 * What an HTTP answer's Content-Type says it is, when that is certainly no picture or video:
 * usually the camera's web page was pasted instead of its stream URL, and ffmpeg would fail on
 * it forever with "Invalid data found". Anything ffmpeg might play passes: multipart/*, image/*,
 * video/*, application/octet-stream, HLS playlists, a missing type, and every type not listed.
 */
export function notVideo(contentType: string | undefined, path: string): { readonly type: string; readonly what: string } | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // Static servers label playlists (HLS, DASH, SDP) they do not know as text or XML; ffmpeg plays them all the same.
  if (type === '' || /\.(m3u8?|sdp|mpd)$/i.test(path)) return undefined;
  if (type === 'text/html' || type === 'application/xhtml+xml') return { type, what: 'a web page' };
  if (type === 'application/json') return { type, what: 'JSON data' };
  if (type === 'application/xml' || type === 'text/xml') return { type, what: 'an XML document' };
  if (type.startsWith('text/')) return { type, what: 'text' };
  return undefined;
}
