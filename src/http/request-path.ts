/**
 * A request's path without its query, for logs: the query may carry `?token=`, and log lines
 * travel further (journals, bug reports) than the secret should.
 */
export function pathOf(url: string | undefined): string {
  const path = (url ?? '').split(/[?#]/, 1)[0]!;
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}
