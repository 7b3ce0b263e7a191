// Raw HTTP/1.1 over a TCP socket to 127.0.0.1, for protocol-level specs (what supertest and http.request cannot
// send: bad chunking, missing Host, slow bodies, half-open connections). Every exchange is bounded in time.
import net from 'node:net';

export interface RawReply {
  /** Everything the server sent. */
  raw: string;
  /** Status of the first response, 0 when none arrived. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed (or reset) the connection before the deadline. */
  closed: boolean;
  /** Milliseconds from connect to close (or to the deadline). */
  elapsedMs: number;
}

export function parseReply(raw: string): Pick<RawReply, 'status' | 'headers' | 'body'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  const rest = raw.slice(end + 4);
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: Number.isNaN(length) ? rest : rest.slice(0, length) };
}

export interface RawOptions {
  /** Written right after connecting. */
  head?: string | Buffer;
  /** Keeps writing after `head` (e.g. a body that never ends); stops when the socket closes. */
  feed?: (write: (data: string | Buffer) => boolean, closed: () => boolean) => Promise<void>;
  /** Give up (and report closed: false) after this long. */
  deadlineMs?: number;
  /** Resolve as soon as one whole response arrived, without waiting for the close. */
  untilResponse?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One exchange on a fresh connection; resolves when the server closes it, or at the deadline. */
export function rawExchange(port: number, options: RawOptions = {}): Promise<RawReply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    let closed = false;
    let settled = false;
    const finish = (isClosed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closed = isClosed;
      socket.destroy();
      resolve({ raw, closed, elapsedMs: Math.round(performance.now() - started), ...parseReply(raw) });
    };
    const timer = setTimeout(() => finish(false), options.deadlineMs ?? 5000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      raw += chunk;
      if (options.untilResponse) {
        const reply = parseReply(raw);
        const length = Number(reply.headers['content-length'] ?? NaN);
        if (reply.status && !Number.isNaN(length) && Buffer.byteLength(reply.body, 'latin1') >= length) finish(false);
      }
    });
    socket.on('error', () => finish(true)); // ECONNRESET / EPIPE while we were still sending: the server closed
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      if (options.head !== undefined) socket.write(options.head);
      void options.feed?.(
        (data) => (closed || settled ? false : socket.write(data)),
        () => closed || settled,
      );
    });
  });
}

/** Writes `chunk` every `everyMs` until the socket closes or `totalMs` passes (a slow or endless body). */
export function trickle(chunk: string | Buffer, everyMs: number, totalMs = 10_000): NonNullable<RawOptions['feed']> {
  return async (write, closed) => {
    const until = performance.now() + totalMs;
    while (!closed() && performance.now() < until) {
      write(chunk);
      await sleep(everyMs);
    }
  };
}

/** Opens a connection and leaves it open (optionally after sending `head`); returns it and a "closed" promise. */
export function openConnection(port: number, head?: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (head) socket.write(head);
      resolve({ socket, closed });
    });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}
