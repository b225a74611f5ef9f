// redkeep's Sentinel endpoint: the subset of the Sentinel protocol that client libraries use to
// find the master (SENTINEL get-master-addr-by-name, masters, master, replicas, sentinels, ROLE,
// INFO, PING, HELLO, AUTH, CLIENT) and to hear of a failover (SUBSCRIBE +switch-master,
// PSUBSCRIBE *). It answers from views the agent provides and publishes the events the agent
// derives from them; it never changes anything. A client that does not read its replies is
// dropped, not buffered without bound.

import { timingSafeEqual } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import type { Logger } from '../log.js';
import { type MasterView, type SentinelIdentity, helloReply, infoText, roleReply, sentinelCommand } from './model.js';
import { ProtocolError, type Reply, RequestParser, array, bulk, encode, error, int, push, simple } from './resp.js';

/** Unread replies allowed per client before it is dropped (Redis' pubsub client-output-buffer-limit is 32 MB hard; ours are tiny). */
export const MAX_PENDING_BYTES = 1024 * 1024;
export const MAX_CLIENTS = 1024;

export interface SentinelServerOptions {
  /** A TCP address, or a unix socket path (tests). */
  readonly listen: { readonly host: string; readonly port: number } | { readonly path: string };
  /** Clients must AUTH with it (read from a file by the caller), or undefined. */
  readonly password: string | undefined;
  readonly identity: SentinelIdentity;
  readonly views: () => readonly MasterView[];
  readonly log: Logger;
}

interface Client {
  readonly id: number;
  readonly sock: Socket;
  proto: 2 | 3;
  authed: boolean;
  name: string | undefined;
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
}

/** Redis' glob: * ? [abc] [^a-z] and \ escapes. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i] as string);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        const neg = body.startsWith('^');
        if (neg) body = body.slice(1);
        re += `[${neg ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
        i = end;
      }
    } else re += escapeRe(c);
  }
  return new RegExp(`${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export class SentinelServer {
  private server: Server | undefined;
  private readonly clients = new Set<Client>();
  private nextId = 1;
  private readonly started = Date.now();
  private readonly patternCache = new Map<string, RegExp>();
  /** Counters for status and metrics. */
  readonly counters = { connections: 0, commands: 0, protocolErrors: 0, dropped: 0, published: 0 };

  constructor(private readonly o: SentinelServerOptions) {}

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.accept(sock));
      server.once('error', reject);
      server.listen(this.o.listen, () => {
        server.off('error', reject);
        server.on('error', (e) => this.o.log.warn('sentinel endpoint error', { error: e.message }));
        this.server = server;
        resolve();
      });
    });
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 'port' in this.o.listen ? this.o.listen.port : 0;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Sends an event to every client subscribed to its channel, or to a pattern matching it. */
  publish(channel: string, message: string): number {
    let n = 0;
    for (const c of this.clients) {
      if (c.channels.has(channel)) {
        this.send(c, push([bulk('message'), bulk(channel), bulk(message)]));
        n++;
      }
      for (const p of c.patterns) {
        if (this.matches(p, channel)) {
          this.send(c, push([bulk('pmessage'), bulk(p), bulk(channel), bulk(message)]));
          n++;
        }
      }
    }
    this.counters.published++;
    return n;
  }

  close(): Promise<void> {
    for (const c of this.clients) c.sock.destroy();
    this.clients.clear();
    const s = this.server;
    this.server = undefined;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  private matches(pattern: string, channel: string): boolean {
    let re = this.patternCache.get(pattern);
    if (!re) {
      re = globToRegExp(pattern);
      if (this.patternCache.size > 1000) this.patternCache.clear();
      this.patternCache.set(pattern, re);
    }
    return re.test(channel);
  }

  private accept(sock: Socket): void {
    if (this.clients.size >= MAX_CLIENTS) {
      sock.end(encode(error('ERR max number of clients reached'), 2));
      return;
    }
    this.counters.connections++;
    sock.setNoDelay(true);
    const c: Client = { id: this.nextId++, sock, proto: 2, authed: this.o.password === undefined, name: undefined, channels: new Set(), patterns: new Set() };
    this.clients.add(c);
    const parser = new RequestParser();
    sock.on('data', (chunk: Buffer) => {
      let requests: string[][];
      try {
        requests = parser.push(chunk);
      } catch (e) {
        this.counters.protocolErrors++;
        sock.end(encode(error(`ERR ${e instanceof ProtocolError ? e.message : 'Protocol error'}`), c.proto));
        this.clients.delete(c);
        return;
      }
      for (const args of requests) {
        if (sock.destroyed) return;
        this.counters.commands++;
        const reply = this.execute(c, args);
        if (reply !== undefined) this.send(c, reply);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.clients.delete(c));
  }

  private send(c: Client, r: Reply | Reply[]): void {
    if (c.sock.destroyed) return;
    const text = Array.isArray(r) ? r.map((x) => encode(x, c.proto)).join('') : encode(r, c.proto);
    if (c.sock.writableLength + text.length > MAX_PENDING_BYTES) {
      this.counters.dropped++;
      this.o.log.warn('sentinel client dropped: it does not read its replies', { client: c.id, pendingBytes: c.sock.writableLength });
      c.sock.destroy();
      this.clients.delete(c);
      return;
    }
    c.sock.write(text);
  }

  private checkPassword(user: string, pass: string): boolean {
    const want = this.o.password;
    if (want === undefined || user !== 'default') return false;
    const a = Buffer.from(pass);
    const b = Buffer.from(want);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The reply (or replies) to one request; undefined when it was sent already. */
  private execute(c: Client, args: string[]): Reply | Reply[] | undefined {
    const cmd = (args[0] ?? '').toLowerCase();
    const rest = args.slice(1);
    const arity = (): Reply => error(`ERR wrong number of arguments for '${cmd}' command`);
    if (!c.authed && !['auth', 'hello', 'quit'].includes(cmd)) return error('NOAUTH Authentication required.');
    const subscribed = c.channels.size + c.patterns.size > 0;
    if (subscribed && c.proto === 2 && !['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ping', 'quit', 'reset'].includes(cmd)) {
      return error(`ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    }
    switch (cmd) {
      case 'ping':
        if (rest.length > 1) return arity();
        if (subscribed && c.proto === 2) return array([bulk('pong'), bulk(rest[0] ?? '')]);
        return rest.length === 1 ? bulk(rest[0] as string) : simple('PONG');
      case 'auth': {
        if (rest.length < 1 || rest.length > 2) return arity();
        if (this.o.password === undefined) return error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
        const ok = rest.length === 2 ? this.checkPassword(rest[0] as string, rest[1] as string) : this.checkPassword('default', rest[0] as string);
        if (!ok) return error('WRONGPASS invalid username-password pair or user is disabled.');
        c.authed = true;
        return simple('OK');
      }
      case 'hello': {
        let proto: 2 | 3 = c.proto;
        let i = 0;
        if (rest.length > 0) {
          const v = rest[0] as string;
          if (v !== '2' && v !== '3') return error('NOPROTO unsupported protocol version');
          proto = v === '3' ? 3 : 2;
          i = 1;
        }
        let name: string | undefined;
        for (; i < rest.length; i++) {
          const opt = (rest[i] as string).toLowerCase();
          if (opt === 'auth' && rest[i + 2] !== undefined) {
            if (this.o.password === undefined || !this.checkPassword(rest[i + 1] as string, rest[i + 2] as string)) {
              return error('WRONGPASS invalid username-password pair or user is disabled.');
            }
            c.authed = true;
            i += 2;
          } else if (opt === 'setname' && rest[i + 1] !== undefined) {
            name = rest[i + 1];
            i += 1;
          } else return error(`ERR Syntax error in HELLO option '${rest[i] as string}'`);
        }
        if (!c.authed) return error('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
        c.proto = proto;
        if (name !== undefined) c.name = name;
        return helloReply(this.o.identity, proto, c.id);
      }
      case 'client': {
        const sub = (rest[0] ?? '').toLowerCase();
        if (sub === 'setname' && rest.length === 2) {
          c.name = rest[1];
          return simple('OK');
        }
        if (sub === 'getname' && rest.length === 1) return bulk(c.name ?? null);
        if (sub === 'setinfo' && rest.length === 3) return simple('OK');
        if (sub === 'id' && rest.length === 1) return int(c.id);
        return error(`ERR unknown subcommand or wrong number of arguments for '${rest[0] ?? ''}'. Try CLIENT HELP.`);
      }
      case 'role':
        return rest.length === 0 ? roleReply(this.o.views()) : arity();
      case 'info':
        if (rest.length > 1) return arity();
        return bulk(infoText(this.o.views(), this.o.identity, (Date.now() - this.started) / 1000, rest[0]));
      case 'sentinel':
        if (rest.length === 0) return arity();
        return sentinelCommand(rest, this.o.views(), this.o.identity);
      case 'subscribe':
      case 'psubscribe': {
        if (rest.length === 0) return arity();
        const set = cmd === 'subscribe' ? c.channels : c.patterns;
        return rest.map((ch) => {
          set.add(ch);
          return push([bulk(cmd), bulk(ch), int(c.channels.size + c.patterns.size)]);
        });
      }
      case 'unsubscribe':
      case 'punsubscribe': {
        const set = cmd === 'unsubscribe' ? c.channels : c.patterns;
        const names = rest.length > 0 ? rest : [...set];
        if (names.length === 0) return push([bulk(cmd), bulk(null), int(c.channels.size + c.patterns.size)]);
        return names.map((ch) => {
          set.delete(ch);
          return push([bulk(cmd), bulk(ch), int(c.channels.size + c.patterns.size)]);
        });
      }
      case 'reset':
        c.channels.clear();
        c.patterns.clear();
        c.proto = 2;
        c.name = undefined;
        c.authed = this.o.password === undefined;
        return simple('RESET');
      case 'quit':
        this.send(c, simple('OK'));
        c.sock.end();
        return undefined;
      case 'command':
        // redis-cli asks COMMAND DOCS for its hints; an empty answer is allowed.
        return array([]);
      default:
        return error(`ERR unknown command '${args[0] ?? ''}', with args beginning with: ${rest.slice(0, 3).map((a) => `'${a}'`).join(' ')}`);
    }
  }
}
