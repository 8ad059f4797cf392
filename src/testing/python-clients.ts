import type { TestContext } from 'node:test';
import { debianPython, runClient, runJsonClient } from './client-process.js';

/**
 * Real Python clients, as people write them, each a few lines run with Debian's python3.
 * They print JSON (or the image) on stdout for the test to check.
 */

const OPENCV = `
import hashlib, json, sys, cv2
cap = cv2.VideoCapture(sys.argv[1])
shapes, digests = [], set()
try:
    opened = cap.isOpened()
    backend = cap.getBackendName() if opened else None
    while opened and len(shapes) < int(sys.argv[2]):
        ok, frame = cap.read()
        if not ok:
            break
        shapes.append(list(frame.shape))
        digests.add(hashlib.sha1(frame.tobytes()).hexdigest())
finally:
    cap.release()
print(json.dumps({"opened": opened, "backend": backend, "shapes": shapes, "distinct": len(digests)}))
`;

export interface OpenCvResult {
  readonly opened: boolean;
  readonly backend: string | null;
  /** [height, width, channels] of each decoded frame. */
  readonly shapes: number[][];
  /** How many different pictures were decoded. */
  readonly distinct: number;
}

/** `cv2.VideoCapture(url)` and `read()` until `count` frames (or a failed read). */
export function openCvRead(t: TestContext, url: string, count: number): Promise<OpenCvResult> {
  return runJsonClient(t, debianPython(['cv2']), ['-c', OPENCV, url, String(count)], { timeoutMs: 25_000 });
}

// aiohttp's MultipartReader is strict: each part's body must be followed by CRLF and the next
// delimiter line, and a Content-Length must match the body exactly.
const AIOHTTP_MULTIPART = `
import asyncio, json, sys, aiohttp
async def main(url, count):
    parts = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        async with session.get(url) as resp:
            content_type = resp.headers.get("Content-Type")
            reader = aiohttp.MultipartReader.from_response(resp)
            while len(parts) < count:
                part = await reader.next()
                if part is None:
                    break
                body = await part.read()
                parts.append({
                    "contentType": part.headers.get("Content-Type"),
                    "contentLength": part.headers.get("Content-Length"),
                    "timestamp": part.headers.get("X-Timestamp"),
                    "seq": part.headers.get("X-Frame-Seq"),
                    "size": len(body),
                    "head": body[:2].hex(),
                    "tail": body[-2:].hex(),
                })
    print(json.dumps({"contentType": content_type, "parts": parts}))
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
`;

export interface AiohttpPart {
  readonly contentType: string | null;
  readonly contentLength: string | null;
  readonly timestamp: string | null;
  readonly seq: string | null;
  readonly size: number;
  readonly head: string;
  readonly tail: string;
}

// The same reader, to the end of a stream that ends (a file played once): MultipartReader.next()
// returns None only after the close delimiter; a body cut short raises instead.
const AIOHTTP_TO_END = `
import asyncio, json, sys, aiohttp
async def main(url):
    pictures, empty, error = 0, 0, None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        async with session.get(url) as resp:
            reader = aiohttp.MultipartReader.from_response(resp)
            try:
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    body = await part.read()
                    if part.headers.get("Content-Type") == "image/jpeg" and body[:2] == b"\\xff\\xd8":
                        pictures += 1
                    elif len(body) == 0:
                        empty += 1
                    else:
                        raise ValueError("a part that is neither a JPEG nor empty")
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
    print(json.dumps({"pictures": pictures, "empty": empty, "error": error}))
asyncio.run(main(sys.argv[1]))
`;

/** Reads a stream with aiohttp.MultipartReader until it ends: whole pictures, empty parts, and the error it ended with, if any. */
export function aiohttpReadToEnd(t: TestContext, url: string): Promise<{ pictures: number; empty: number; error: string | null }> {
  return runJsonClient(t, debianPython(['aiohttp']), ['-c', AIOHTTP_TO_END, url], { timeoutMs: 25_000 });
}

/** Reads `count` parts with aiohttp.MultipartReader. */
export function aiohttpReadParts(t: TestContext, url: string, count: number): Promise<{ contentType: string; parts: AiohttpPart[] }> {
  return runJsonClient(t, debianPython(['aiohttp']), ['-c', AIOHTTP_MULTIPART, url, String(count)], { timeoutMs: 25_000 });
}

// Home Assistant's MJPEG camera, when no still_image_url is set, takes a still from the stream:
// it reads the body in 100 KiB chunks and returns the bytes from the first FF D8 to the first
// FF D9 (homeassistant/components/mjpeg/camera.py, extract_image_from_mjpeg). Same method here.
const HOME_ASSISTANT_STILL = `
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as resp:
    data = b""
    for _ in range(100):
        chunk = resp.read(102400)
        if not chunk:
            break
        data += chunk
        end = data.find(b"\\xff\\xd9")
        start = data.find(b"\\xff\\xd8")
        if end >= 0 and start >= 0:
            sys.stdout.buffer.write(data[start:end + 2])
            break
`;

/** The still picture Home Assistant's `mjpeg` camera takes from a stream URL. */
export async function homeAssistantStill(t: TestContext, url: string): Promise<Buffer> {
  const result = await runClient(t, debianPython(), ['-c', HOME_ASSISTANT_STILL, url], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`Home Assistant still method failed (${result.code ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}

/**
 * A viewer that reads a few parts, stops reading for `pauseSeconds`, then reads again. Its
 * receive buffer is small and its MSS that of Ethernet, as for a viewer on a LAN: on loopback
 * the kernel would otherwise buffer megabytes (64 KiB segments), hiding what the server does.
 *
 * Just before resuming it reads, from /proc/net/tcp, how many bytes the kernel holds for this
 * connection: unsent or unacknowledged in the server's socket (tx_queue) and unread in its own
 * (rx_queue). Every part is reported with its start offset in the body, its size and headers.
 */
const RESUMING_VIEWER = `
import json, socket, sys, time
port, path, pause = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1448)
s.settimeout(15)
s.connect(("127.0.0.1", port))
s.sendall(("GET " + path + " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n").encode())
buf, received, consumed = b"", 0, 0
def fill():
    global buf, received
    chunk = s.recv(65536)
    if not chunk:
        raise SystemExit("stream ended")
    buf += chunk
    received += len(chunk)
while b"\\r\\n\\r\\n" not in buf:
    fill()
head, _, buf = buf.partition(b"\\r\\n\\r\\n")
consumed = len(head) + 4
boundary = head.split(b"boundary=")[1].split(b"\\r\\n")[0].split(b";")[0]
delim = b"--" + boundary + b"\\r\\n"
def next_part():
    global buf, consumed
    while len(buf) < len(delim) or b"\\r\\n\\r\\n" not in buf:
        fill()
    if not buf.startswith(delim) and not buf.startswith(b"\\r\\n" + delim):
        raise SystemExit("bad delimiter: %r" % buf[:80])
    start = consumed
    skip = len(delim) + (2 if buf.startswith(b"\\r\\n") else 0)
    headers_end = buf.index(b"\\r\\n\\r\\n")
    headers = dict(line.split(b": ", 1) for line in buf[skip:headers_end].split(b"\\r\\n"))
    size = headers_end + 4 + int(headers[b"Content-Length"])
    while len(buf) < size:
        fill()
    buf = buf[size:]
    consumed += size
    return {"offset": start, "size": size, "timestamp": float(headers[b"X-Timestamp"]), "seq": int(headers[b"X-Frame-Seq"]), "readAt": time.time()}
def queues(local_port, server_port):
    tx = rx = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
            tq, rq = (int(x, 16) for x in fields[4].split(":"))
            if local == server_port and remote == local_port:
                tx = tq
            if local == local_port and remote == server_port:
                rx = rq
    return tx, rx
before = [next_part() for _ in range(3)]
time.sleep(pause)
server_queue, client_queue = queues(s.getsockname()[1], port)
state = {"received": received, "serverQueue": server_queue, "clientQueue": client_queue, "resumedAt": time.time()}
after = []
deadline = time.time() + 10
while len(after) < 400 and time.time() < deadline:
    part = next_part()
    after.append(part)
    if part["timestamp"] >= state["resumedAt"] - 0.5 and len([p for p in after if p["timestamp"] >= state["resumedAt"] - 0.5]) >= 5:
        break
s.close()
print(json.dumps({"before": before, "paused": state, "after": after}))
`;

export interface ResumingPart {
  /** Offset of the part (its delimiter) in the bytes of the response, head included. */
  readonly offset: number;
  /** Delimiter, headers and JPEG. */
  readonly size: number;
  /** X-Timestamp, seconds since the epoch. */
  readonly timestamp: number;
  readonly seq: number;
  readonly readAt: number;
}

export interface ResumingViewerResult {
  readonly before: ResumingPart[];
  readonly paused: {
    /** Bytes of the response the client had taken from its socket when it stopped reading. */
    readonly received: number;
    /** Bytes in the server socket's send queue at the end of the pause (null: not found). */
    readonly serverQueue: number | null;
    /** Bytes in the client socket's receive queue at the end of the pause. */
    readonly clientQueue: number | null;
    /** time.time() when the client started reading again. */
    readonly resumedAt: number;
  };
  readonly after: ResumingPart[];
}

export function resumingViewer(t: TestContext, port: number, path: string, pauseSeconds: number): Promise<ResumingViewerResult> {
  return runJsonClient(t, debianPython(), ['-c', RESUMING_VIEWER, String(port), path, String(pauseSeconds)], { timeoutMs: pauseSeconds * 1000 + 20_000 });
}

const PROMETHEUS_PARSE = `
import base64, json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
request = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    request.add_header("Authorization", "Basic " + base64.b64encode(sys.argv[2].encode()).decode())
with urllib.request.urlopen(request, timeout=10) as response:
    content_type = response.headers["Content-Type"]
    text = response.read().decode("utf-8")
families = {}
for family in text_string_to_metric_families(text):
    families[family.name] = {
        "type": family.type,
        "help": family.documentation,
        "samples": [[s.name, s.labels, s.value] for s in family.samples],
    }
print(json.dumps({"contentType": content_type, "families": families}))
`;

export interface PrometheusFamily {
  readonly type: string;
  readonly help: string;
  /** [sample name, labels, value] */
  readonly samples: [string, Record<string, string>, number][];
}

/** The Prometheus project's own Python client parses a /metrics page, as a scraper reads it. */
export function prometheusParse(t: TestContext, url: string, credentials?: string): Promise<{ contentType: string; families: Record<string, PrometheusFamily> }> {
  const args = ['-c', PROMETHEUS_PARSE, url, ...(credentials ? [credentials] : [])];
  return runJsonClient(t, debianPython(['prometheus_client']), args, { timeoutMs: 20_000 });
}

// A viewer that stops reading for a while, then reads everything to the end of the body. Its
// receive buffer is small (64 KiB), so a large part stays in flight on the server meanwhile.
const LATE_READER = `
import json, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET " + sys.argv[2].encode() + b" HTTP/1.1\\r\\nHost: camcast\\r\\n\\r\\n")
time.sleep(float(sys.argv[3]))
chunks = []
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    chunks.append(chunk)
data = b"".join(chunks)
print(json.dumps({"bytes": len(data), "tail": data[-64:].decode("latin1")}))
`;

/** Connects, waits `pauseSeconds` without reading, then reads to the end: the body's size and its last 64 bytes. */
export function lateReader(t: TestContext, port: number, path: string, pauseSeconds: number): Promise<{ bytes: number; tail: string }> {
  return runJsonClient(t, debianPython(), ['-c', LATE_READER, String(port), path, String(pauseSeconds)], { timeoutMs: pauseSeconds * 1000 + 20_000 });
}
