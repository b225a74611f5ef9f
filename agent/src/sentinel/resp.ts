// RESP, the Redis protocol, as far as a Sentinel endpoint needs it: requests (arrays of bulk
// strings, and inline commands as redis-cli or telnet send them) parsed incrementally from a
// stream, and replies encoded in RESP2 or RESP3 (HELLO 3). Pure: bytes in, values out.

/** A reply, independent of the protocol version it is encoded in. */
export type Reply =
  | { readonly t: 'simple'; readonly v: string }
  | { readonly t: 'error'; readonly v: string }
  | { readonly t: 'int'; readonly v: number }
  | { readonly t: 'bulk'; readonly v: string | null }
  | { readonly t: 'array'; readonly v: readonly Reply[] | null }
  /** RESP3 map; in RESP2 a flat array of key, value, key, value. */
  | { readonly t: 'map'; readonly v: readonly (readonly [string, Reply])[] }
  /** RESP3 push (pub/sub messages); in RESP2 an array. */
  | { readonly t: 'push'; readonly v: readonly Reply[] };

export const simple = (v: string): Reply => ({ t: 'simple', v });
export const error = (v: string): Reply => ({ t: 'error', v });
export const int = (v: number): Reply => ({ t: 'int', v });
export const bulk = (v: string | null): Reply => ({ t: 'bulk', v });
export const array = (v: readonly Reply[] | null): Reply => ({ t: 'array', v });
export const bulks = (v: readonly string[]): Reply => array(v.map(bulk));
export const map = (v: readonly (readonly [string, Reply])[]): Reply => ({ t: 'map', v });
export const push = (v: readonly Reply[]): Reply => ({ t: 'push', v });

/** Sentinel's field lists (SENTINEL master, replicas, sentinels): a map of bulk strings. */
export const fields = (v: readonly (readonly [string, string])[]): Reply => map(v.map(([k, x]) => [k, bulk(x)] as const));

function noCrLf(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

export function encode(r: Reply, proto: 2 | 3): string {
  switch (r.t) {
    case 'simple':
      return `+${noCrLf(r.v)}\r\n`;
    case 'error':
      return `-${noCrLf(r.v)}\r\n`;
    case 'int':
      return `:${Math.trunc(r.v)}\r\n`;
    case 'bulk':
      if (r.v === null) return proto === 3 ? '_\r\n' : '$-1\r\n';
      return `$${Buffer.byteLength(r.v)}\r\n${r.v}\r\n`;
    case 'array':
      if (r.v === null) return proto === 3 ? '_\r\n' : '*-1\r\n';
      return `*${r.v.length}\r\n${r.v.map((x) => encode(x, proto)).join('')}`;
    case 'map':
      if (proto === 3) return `%${r.v.length}\r\n${r.v.map(([k, x]) => encode(bulk(k), 3) + encode(x, 3)).join('')}`;
      return `*${r.v.length * 2}\r\n${r.v.map(([k, x]) => encode(bulk(k), 2) + encode(x, 2)).join('')}`;
    case 'push':
      return `${proto === 3 ? '>' : '*'}${r.v.length}\r\n${r.v.map((x) => encode(x, proto)).join('')}`;
  }
}

/** Limits of a request: a Sentinel endpoint has no use for large ones. */
export const MAX_ARGS = 1024;
export const MAX_BULK_BYTES = 64 * 1024;
export const MAX_INLINE_BYTES = 64 * 1024;

export class ProtocolError extends Error {}

/**
 * Splits a byte stream into requests. push() returns the complete requests found so far; a
 * partial one waits for more bytes. A malformed or oversized request throws ProtocolError (the
 * caller answers with it and closes the connection, as Redis does).
 */
export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[][] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[][] = [];
    for (;;) {
      const r = this.buf[0] === 0x2a /* '*' */ ? this.multibulk() : this.inline();
      if (r === undefined) break;
      this.buf = this.buf.subarray(r.used);
      if (r.args.length > 0) out.push(r.args);
    }
    return out;
  }

  /** An inline command: words split by spaces, with "double" and 'single' quoted words. */
  private inline(): { args: string[]; used: number } | undefined {
    const nl = this.buf.indexOf(0x0a);
    if (nl < 0) {
      if (this.buf.length > MAX_INLINE_BYTES) throw new ProtocolError('Protocol error: too big inline request');
      return undefined;
    }
    const line = this.buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
    return { args: splitInline(line), used: nl + 1 };
  }

  private multibulk(): { args: string[]; used: number } | undefined {
    const b = this.buf;
    const head = readLine(b, 0);
    if (head === undefined) return undefined;
    const n = strictInt(head.line.slice(1));
    if (n === undefined || n > MAX_ARGS) throw new ProtocolError('Protocol error: invalid multibulk length');
    let at = head.next;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = readLine(b, at);
      if (len === undefined) return undefined;
      if (len.line[0] !== '$') throw new ProtocolError(`Protocol error: expected '$', got '${len.line[0] ?? ''}'`);
      const size = strictInt(len.line.slice(1));
      if (size === undefined || size > MAX_BULK_BYTES) throw new ProtocolError('Protocol error: invalid bulk length');
      const end = len.next + size;
      if (b.length < end + 2) return undefined;
      if (b[end] !== 0x0d || b[end + 1] !== 0x0a) throw new ProtocolError('Protocol error: bulk string not terminated by CRLF');
      args.push(b.subarray(len.next, end).toString('utf8'));
      at = end + 2;
    }
    return { args, used: at };
  }
}

function readLine(b: Buffer, from: number): { line: string; next: number } | undefined {
  const cr = b.indexOf('\r\n', from);
  if (cr < 0) {
    if (b.length - from > 32) throw new ProtocolError('Protocol error: header line too long');
    return undefined;
  }
  return { line: b.subarray(from, cr).toString('latin1'), next: cr + 2 };
}

function strictInt(s: string): number | undefined {
  return /^(0|[1-9][0-9]{0,8})$/.test(s) ? Number(s) : undefined;
}

export function splitInline(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    const q = line[i];
    if (q === '"' || q === "'") {
      const end = line.indexOf(q, i + 1);
      if (end < 0) throw new ProtocolError('Protocol error: unbalanced quotes in request');
      out.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = i;
      while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}
