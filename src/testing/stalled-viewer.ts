import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A viewer that connects, sends its request and never reads, with a tiny receive buffer.
 * Node cannot set SO_RCVBUF on a TCP socket, and on loopback the default buffers hold seconds
 * of video, which would hide server-side queueing; a few lines of Python can.
 */
const SCRIPT = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET " + sys.argv[2] + " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n").encode())
s.recv(1)
print("connected", flush=True)
time.sleep(float(sys.argv[3]))
`;

export interface StalledViewer {
  readonly process: ChildProcess;
  readonly connected: Promise<void>;
  kill(): void;
}

export function openStalledViewer(port: number, path: string, seconds = 60): StalledViewer {
  const child = spawn('python3', ['-c', SCRIPT, String(port), path, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const connected = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`stalled viewer exited early (${code})`)));
    child.once('error', reject);
  });
  connected.catch(() => {});
  return { process: child, connected, kill: () => child.kill('SIGKILL') };
}
