// sentinel.conf -> redkeep TOML, for `redkeep import-sentinel`. Pure: text and options in, TOML
// text and warnings out. Every directive is either mapped, or reported with its line (as a
// warning, and as a "# CHECK" comment in the TOML next to where it would have gone); nothing is
// dropped silently. Where Sentinel reads a file in a particular way (settings of a master before
// its monitor line, the last of two lines counting), the conversion does what Sentinel does.
//
// A monitored master becomes an [[instance]] of that name that looks after the local Redis
// (manage_role = true) with the hosts Sentinel knew as members; Sentinel's port becomes the
// Sentinel endpoint, so that Sentinel-aware clients keep working. A Sentinel setup has no VIP:
// interface, VIP, VRID and priority come from the options, or are placeholders with a warning.
//
// Secrets (requirepass, auth-pass, sentinel-pass, ACL users) are never written, in the TOML or in
// a message: the TOML names a password file instead, and a warning asks for the password in it.

import { type AddressFamily, type Cidr, addressFamilyOf, canonicalAddress, masterDownIntervalMs } from '@redkeep/vrrp';
import { type Conversion, ConversionError, Section, WarningLog, byLine, comment, tomlArray, tomlString } from '../import/toml-writer.js';
import { type SentinelDirective, parseSentinelConf } from './parse.js';

export interface SentinelImportOptions {
  /** The interface the VIPs live on (every instance); a placeholder when undefined. */
  readonly interface?: string | undefined;
  /** The VIP of each monitored master, in the order of their monitor lines; placeholders for the rest. */
  readonly vips?: readonly Cidr[] | undefined;
  /** The first master's VRID, the next masters' VRIDs follow; a placeholder when undefined. */
  readonly vrid?: number | undefined;
  /** This host's priority (every instance); a placeholder when undefined. */
  readonly priority?: number | undefined;
}

/** Nothing could be converted (no usable `sentinel monitor`), or the options do not fit the file. */
export class SentinelImportError extends ConversionError {
  override readonly name = 'SentinelImportError';
  readonly code = 'ERR_SENTINEL_IMPORT';
}

/** Sentinel's defaults (Redis 7.0 sentinel.c). */
const SENTINEL_PORT = 26379;
const DOWN_AFTER_MS = 30_000;
/** Placeholders, clearly not real: the documentation prefixes and a VRID keepalived examples use. */
const PLACEHOLDER_INTERFACE = 'eth0';
const PLACEHOLDER_VRID = 51;
const PLACEHOLDER_PRIORITY = 100;
const PASSWORD_DIR = '/etc/redkeep';
/** VRRPv3 advert interval bounds in centiseconds (RFC 5798 §5.2.7); redkeep's floor for an import: 100 ms. */
const MIN_ADVERT_CS = 10;
const MAX_ADVERT_CS = 4095;

/** Redis' loglevel -> redkeep's log_level. */
const LOG_LEVELS: Readonly<Record<string, string>> = { debug: 'debug', verbose: 'debug', notice: 'info', warning: 'warn', nothing: 'error' };

const EPOCHS = "Sentinel's own failover state; redkeep keeps none (the VRRP election decides who is master)";

/** `sentinel <setting>` that redkeep has no equivalent for, and why. */
const SENTINEL_UNSUPPORTED: Readonly<Record<string, string>> = {
  'failover-timeout': 'redkeep has no failover timeout: a failover is one VRRP election (Master_Down_Interval), and a refused hand-over is retried',
  'parallel-syncs': "redkeep has no such setting: each backup's Redis follows the new master as soon as its data allows",
  'notification-script': 'redkeep has no Sentinel event notifications: the notify hook runs on every VRRP state change (arguments INSTANCE name state priority)',
  'deny-scripts-reconfig': 'redkeep has no SENTINEL SET: its hooks change only in its configuration file',
  'resolve-hostnames': "redkeep's members are IP addresses",
  'announce-hostnames': "redkeep's Sentinel endpoint reports each Redis at its member's advert address",
  'announce-ip': "redkeep's Sentinel endpoint reports each Redis at its member's advert address and peer_port",
  'announce-port': "redkeep's Sentinel endpoint reports each Redis at its member's advert address and peer_port",
  'master-reboot-down-after-period': 'redkeep has no such setting',
  'sentinel-user': 'redkeep does not talk to other Sentinels: redkeep hosts speak VRRP to each other',
  'sentinel-pass': 'redkeep does not talk to other Sentinels: redkeep hosts speak VRRP to each other',
  myid: EPOCHS,
  'current-epoch': EPOCHS,
  'config-epoch': EPOCHS,
  'leader-epoch': EPOCHS,
};

/** The `sentinel <setting>`s that name a master (their first argument). */
const PER_MASTER = new Set([
  'down-after-milliseconds',
  'failover-timeout',
  'parallel-syncs',
  'notification-script',
  'client-reconfig-script',
  'auth-pass',
  'auth-user',
  'config-epoch',
  'leader-epoch',
  'known-replica',
  'known-slave',
  'known-sentinel',
  'rename-command',
  'master-reboot-down-after-period',
]);

const ENDPOINT = "redkeep's Sentinel endpoint";
const NO_ACL = `${ENDPOINT} has no ACL users: clients AUTH with the one password of sentinel_password_file (from requirepass)`;
const FOREGROUND = 'redkeep runs in the foreground under systemd (examples/redkeep.service)';
const LOGS = 'redkeep logs to stdout and stderr (the journal under systemd); [agent] log_level sets the level';
const NO_TLS = `${ENDPOINT} has no TLS; for TLS to Redis, set [instance.redis] tls`;

/** Redis server directives redkeep has no equivalent for, and why. */
const SERVER_UNSUPPORTED: Readonly<Record<string, string>> = {
  bind: `${ENDPOINT} listens on one address, sentinel_address (0.0.0.0: every IPv4 address); set it to one address to listen there only`,
  'protected-mode': `${ENDPOINT} has no protected mode: it answers whoever reaches sentinel_address (with sentinel_password_file, only after AUTH)`,
  daemonize: FOREGROUND,
  supervised: FOREGROUND,
  pidfile: FOREGROUND,
  logfile: LOGS,
  'syslog-enabled': LOGS,
  'syslog-ident': LOGS,
  'syslog-facility': LOGS,
  dir: 'redkeep keeps its state in [agent] state_dir (default /var/lib/redkeep)',
  user: NO_ACL,
  aclfile: NO_ACL,
  'acllog-max-len': `${ENDPOINT} has no ACL log`,
  masterauth: 'Sentinel does not use it; the Redis password is sentinel auth-pass',
  include: 'the included file is not read: convert it too, or merge it into this one',
  unixsocket: `${ENDPOINT} listens on TCP only`,
  unixsocketperm: `${ENDPOINT} listens on TCP only`,
  'rename-command': `${ENDPOINT} has no renamed commands`,
};

/** Redis server directives seen in sentinel.conf files (CONFIG REWRITE writes some) without a Sentinel-endpoint equivalent. */
const SERVER_SETTINGS = new Set([
  'bind-source-addr',
  'latency-tracking-info-percentiles',
  'latency-tracking',
  'timeout',
  'tcp-keepalive',
  'tcp-backlog',
  'maxclients',
  'hz',
  'dynamic-hz',
  'always-show-logo',
  'set-proc-title',
  'proc-title-template',
  'enable-debug-command',
  'enable-module-command',
  'enable-protected-configs',
  'oom-score-adj',
  'oom-score-adj-values',
  'crash-log-enabled',
  'crash-memcheck-enabled',
  'io-threads',
  'client-output-buffer-limit',
  'loadmodule',
]);

const int = (s: string | undefined): number | undefined => (s !== undefined && /^\d{1,9}$/.test(s) ? Number(s) : undefined);

/** Text in a message: quoted, one line, no control characters. */
const quoted = (text: string): string => JSON.stringify(text).replace(/[\u007f-\u009f]/g, '?');

/** "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A redkeep duration for whole milliseconds: "1s", "7500ms". */
const durationMs = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** A part of a file name: what is safe in /etc/redkeep/NAME.pass. */
function fileSafe(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return s.startsWith('.') || s === '' ? `_${s}` : s;
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

function isUnicast(address: string): boolean {
  if (address === '0.0.0.0' || address === '255.255.255.255' || address === '::') return false;
  if (addressFamilyOf(address) === 'ipv4') return Number(address.split('.')[0]) < 224;
  return !address.startsWith('ff');
}

/**
 * The longest VRRPv3 advert interval (in centiseconds, at least 100 ms) whose
 * Master_Down_Interval is at most `downAfterMs` whatever the priority: the largest Skew_Time is
 * that of priority 1 (RFC 5798 §6.1). Undefined when even 100 ms adverts are too slow.
 */
export function advertIntervalCsFor(downAfterMs: number): number | undefined {
  let best: number | undefined;
  for (let cs = MIN_ADVERT_CS; cs <= MAX_ADVERT_CS; cs++) {
    if (masterDownIntervalMs(3, 1, cs) > downAfterMs) break;
    best = cs;
  }
  return best;
}

interface Member {
  readonly address: string;
  readonly line: number;
}

interface MasterDef {
  readonly name: string;
  readonly line: number;
  readonly host: string;
  readonly port: number;
  quorum: number | undefined;
  readonly section: Section;
  readonly redisSection: Section;
  readonly hooksSection: Section;
  /** The hosts Sentinel knew, in file order, as written (canonical addresses and host names). */
  readonly hosts: { text: string; port: number; line: number; what: 'master' | 'known-replica' | 'known-sentinel' }[];
  downAfter: { ms: number; line: number } | undefined;
  password: { line: number } | undefined;
  username: { value: string; line: number } | undefined;
  reconfig: { path: string; line: number } | undefined;
}

class Converter {
  private readonly log = new WarningLog();
  private readonly masters = new Map<string, MasterDef>();
  private readonly agent = new Section('[agent]');
  /** Every secret of the file, lower case: a word equal to one, in any case, is never shown in a message. */
  private readonly secrets = new Set<string>();
  /** The last line of a directive that Redis reads once (the last one counts), by directive. */
  private readonly once = new Map<string, SentinelDirective>();
  private port: { value: number; line: number } | undefined;
  private requirepass: { line: number } | undefined;
  private logLevel: { value: string; line: number } | undefined;
  private readonly files = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly options: SentinelImportOptions,
  ) {}

  private warn(line: number, message: string, at?: Section, key?: string): void {
    this.log.warn(line, message, at, key);
  }

  /** A word of the file in a message, unless it is a secret. */
  private show(word: string): string {
    return this.secrets.has(word.toLowerCase()) ? '"(a secret)"' : quoted(word);
  }

  run(text: string): Conversion {
    const doc = parseSentinelConf(text);
    for (const w of doc.warnings) this.warn(w.line, w.message);
    this.collectSecrets(doc.directives);
    // Sentinel reads the monitor lines first: a master's settings may come before its monitor line.
    for (const d of doc.directives) if (d.name === 'sentinel' && d.args[0]?.toLowerCase() === 'monitor') this.monitor(d);
    for (const d of doc.directives) {
      if (d.name === 'sentinel') this.sentinel(d);
      else this.server(d);
    }
    const masters = [...this.masters.values()];
    const first = masters[0];
    if (first === undefined) {
      const line = doc.directives.find((d) => d.name === 'sentinel' && d.args[0]?.toLowerCase() === 'monitor')?.line;
      throw new SentinelImportError(
        line ?? 1,
        line === undefined ? 'there is no sentinel monitor line to convert: redkeep needs at least one master' : 'no sentinel monitor line could be converted (see the warnings): redkeep needs at least one master',
        this.log.sorted(),
      );
    }
    this.checkOptions(masters);
    return { toml: this.render(masters), warnings: this.log.sorted() };
  }

  private collectSecrets(directives: readonly SentinelDirective[]): void {
    for (const d of directives) {
      const sub = d.name === 'sentinel' ? d.args[0]?.toLowerCase() : undefined;
      const secret =
        d.name === 'requirepass' || d.name === 'masterauth' || /^tls-.*-pass$/.test(d.name)
          ? d.args[0]
          : sub === 'auth-pass'
            ? d.args[2]
            : sub === 'sentinel-pass'
              ? d.args[1]
              : undefined;
      if (secret !== undefined && secret !== '') this.secrets.add(secret.toLowerCase());
      // An ACL user line: >pw and <pw add and remove a password, #hex and !hex its hash.
      if (d.name === 'user') {
        for (const w of d.args.slice(1)) if (/^[><#!]./.test(w)) this.secrets.add(w.toLowerCase()).add(w.slice(1).toLowerCase());
      }
    }
  }

  /** A directive Redis reads once: an earlier line of it is overridden, as in Redis. */
  private last(d: SentinelDirective, key: string, at?: Section, tomlKey?: string): void {
    const before = this.once.get(key);
    if (before !== undefined) this.warn(before.line, `${key} is set again on line ${d.line}: the last one counts, as in Redis`, at, tomlKey);
    this.once.set(key, d);
  }

  // -- sentinel monitor -------------------------------------------------------------------------

  private monitor(d: SentinelDirective): void {
    const [, name, host, portText, quorumText] = d.args;
    if (d.args.length !== 5 || name === undefined || host === undefined || name === '') {
      this.warn(d.line, 'sentinel monitor needs <master-name> <ip> <port> <quorum>: left out');
      return;
    }
    if (this.masters.has(name)) {
      this.warn(d.line, `sentinel monitor ${this.show(name)} is there twice (Sentinel refuses to start): the first one is used`);
      return;
    }
    const port = int(portText);
    if (port === undefined || port < 1 || port > 65535) {
      this.warn(d.line, `sentinel monitor ${this.show(name)}: port ${this.show(portText ?? '')} is not 1..65535: the master is left out`);
      return;
    }
    const section = new Section('[[instance]]');
    const m: MasterDef = {
      name,
      line: d.line,
      host,
      port,
      quorum: undefined,
      section,
      redisSection: new Section('[instance.redis]'),
      hooksSection: new Section('[instance.hooks]'),
      hosts: [],
      downAfter: undefined,
      password: undefined,
      username: undefined,
      reconfig: undefined,
    };
    const quorum = int(quorumText);
    if (quorum === undefined || quorum < 1) {
      this.warn(d.line, `sentinel monitor ${this.show(name)}: quorum ${this.show(quorumText ?? '')} is not an integer of at least 1 (Sentinel refuses it): left out, redkeep's default (a majority) applies`, m.redisSection, 'quorum');
    } else m.quorum = quorum;
    m.hosts.push({ text: host, port, line: d.line, what: 'master' });
    this.masters.set(name, m);
  }

  // -- the other sentinel settings --------------------------------------------------------------

  private sentinel(d: SentinelDirective): void {
    const sub = d.args[0]?.toLowerCase();
    if (sub === 'monitor') return;
    // A word that is no setting redkeep knows is not repeated: it may be a misplaced password.
    if (sub === undefined || (!PER_MASTER.has(sub) && SENTINEL_UNSUPPORTED[sub] === undefined)) {
      this.warn(d.line, 'sentinel: this line names no Sentinel setting redkeep knows: left out');
      return;
    }
    const label = `sentinel ${sub}`;
    if (!PER_MASTER.has(sub)) {
      this.warn(d.line, `${label} is not supported by redkeep: ${SENTINEL_UNSUPPORTED[sub] ?? ''}`);
      return;
    }
    const name = d.args[1];
    const m = name === undefined ? undefined : this.masters.get(name);
    if (name === undefined || m === undefined) {
      const reason = name === undefined ? 'it names no master' : `there is no sentinel monitor ${this.show(name)} (Sentinel refuses to start)`;
      this.warn(d.line, `${label}: ${reason}: left out`);
      return;
    }
    const args = d.args.slice(2);
    const label2 = `${label} ${this.show(m.name)}`;
    switch (sub) {
      case 'down-after-milliseconds': {
        const ms = int(args[0]);
        if (args.length !== 1 || ms === undefined || ms < 1) {
          this.warn(d.line, `${label2} needs a number of milliseconds above 0: left out`, m.section, 'advert_interval');
          break;
        }
        if (m.downAfter !== undefined) this.warn(m.downAfter.line, `${label2} is set again on line ${d.line}: the last one counts, as in Sentinel`, m.section, 'advert_interval');
        m.downAfter = { ms, line: d.line };
        break;
      }
      case 'known-replica':
      case 'known-slave':
      case 'known-sentinel': {
        const port = int(args[1]);
        const need = sub === 'known-sentinel' ? args.length === 2 || args.length === 3 : args.length === 2;
        if (!need || args[0] === undefined || port === undefined || port < 1 || port > 65535) {
          this.warn(d.line, `${label2} needs <ip> <port>${sub === 'known-sentinel' ? ' [<run id>]' : ''}: left out`, m.section, 'members');
          break;
        }
        m.hosts.push({ text: args[0], port, line: d.line, what: sub === 'known-sentinel' ? 'known-sentinel' : 'known-replica' });
        break;
      }
      case 'auth-pass':
        if (args.length !== 1 || args[0] === undefined) this.warn(d.line, `${label2} needs one password: left out`, m.redisSection, 'password_file');
        else if (args[0] === '') this.warn(d.line, `${label2} is empty: Sentinel sends no password, and neither will redkeep`, m.redisSection, 'password_file');
        else {
          if (m.password !== undefined) this.warn(m.password.line, `${label2} is set again on line ${d.line}: the last one counts, as in Sentinel`, m.redisSection, 'password_file');
          m.password = { line: d.line };
        }
        break;
      case 'auth-user':
        if (args.length !== 1 || args[0] === undefined || args[0] === '') this.warn(d.line, `${label2} needs one user name: left out`, m.redisSection, 'username');
        else {
          if (m.username !== undefined) this.warn(m.username.line, `${label2} is set again on line ${d.line}: the last one counts, as in Sentinel`, m.redisSection, 'username');
          m.username = { value: args[0], line: d.line };
        }
        break;
      case 'client-reconfig-script':
        if (args.length !== 1 || args[0] === undefined || args[0] === '') this.warn(d.line, `${label2} needs the path of a script: left out`, m.hooksSection, 'client_reconfig');
        else {
          if (m.reconfig !== undefined) this.warn(m.reconfig.line, `${label2} is set again on line ${d.line}: the last one counts, as in Sentinel`, m.hooksSection, 'client_reconfig');
          m.reconfig = { path: args[0], line: d.line };
        }
        break;
      case 'rename-command':
        this.warn(
          d.line,
          `${label} ${this.show(m.name)}${args[0] === undefined ? '' : ` ${this.show(args[0])}`}: redkeep sends Redis its commands (INFO, REPLICAOF, CONFIG, CLIENT, ...) by their own names and cannot follow a renamed one: left out`,
          m.redisSection,
        );
        break;
      default: {
        const reason = SENTINEL_UNSUPPORTED[sub] ?? 'redkeep has no equivalent';
        this.warn(d.line, `${label} is not supported by redkeep: ${reason}`, m.section);
      }
    }
  }

  // -- Redis server directives ------------------------------------------------------------------

  private server(d: SentinelDirective): void {
    switch (d.name) {
      case 'port': {
        const p = int(d.args[0]);
        this.last(d, 'port', this.agent, 'sentinel_address');
        if (d.args.length !== 1 || p === undefined || p > 65535) {
          this.warn(d.line, `port ${this.show(d.args[0] ?? '')} is not 0..65535 (Sentinel refuses to start): left out, Sentinel's default ${SENTINEL_PORT} is used`, this.agent, 'sentinel_address');
          this.port = undefined;
        } else this.port = { value: p, line: d.line };
        return;
      }
      case 'requirepass':
        this.last(d, 'requirepass', this.agent, 'sentinel_password_file');
        this.requirepass = d.args.length === 1 && d.args[0] !== '' ? { line: d.line } : undefined;
        if (d.args.length !== 1) this.warn(d.line, 'requirepass needs one password: left out', this.agent, 'sentinel_password_file');
        else if (d.args[0] === '') this.warn(d.line, 'requirepass is empty: Sentinel asks clients for no password, and neither will redkeep', this.agent, 'sentinel_password_file');
        return;
      case 'loglevel': {
        const v = d.args[0]?.toLowerCase();
        this.last(d, 'loglevel', this.agent, 'log_level');
        if (d.args.length !== 1 || v === undefined || LOG_LEVELS[v] === undefined) {
          this.warn(d.line, `loglevel ${this.show(d.args[0] ?? '')} is not debug, verbose, notice, warning or nothing: left out`, this.agent, 'log_level');
          this.logLevel = undefined;
        } else this.logLevel = { value: v, line: d.line };
        return;
      }
      default: {
        const endpoint = ['bind', 'protected-mode', 'user', 'aclfile', 'acllog-max-len', 'unixsocket', 'unixsocketperm'].includes(d.name);
        const at = endpoint ? this.agent : undefined;
        const key = endpoint ? 'sentinel_address' : undefined;
        const reason = SERVER_UNSUPPORTED[d.name] ?? (d.name.startsWith('tls-') ? NO_TLS : undefined);
        // bind's addresses and a user's name help; any other word of the line may be a secret, and
        // so may a directive redkeep does not know (a misplaced password): neither is repeated.
        const words = d.name === 'bind' ? d.args.length : d.name === 'user' ? 1 : 0;
        const what = [d.name, ...d.args.slice(0, words).map((w) => this.show(w))].join(' ');
        if (reason !== undefined) this.warn(d.line, `${what} is not supported by redkeep: ${reason}`, at, key);
        else if (SERVER_SETTINGS.has(d.name)) this.warn(d.line, `${d.name} is a Redis server setting without an equivalent in ${ENDPOINT}: left out`);
        else this.warn(d.line, 'this line is not a Sentinel or Redis setting redkeep knows: left out');
      }
    }
  }

  // -- Options ----------------------------------------------------------------------------------

  /** Options that cannot fit this file are refused: the operator asked for something else. */
  private checkOptions(masters: readonly MasterDef[]): void {
    const vips = this.options.vips ?? [];
    const first = masters[0];
    if (vips.length > masters.length) {
      throw new SentinelImportError(first?.line ?? 1, `${vips.length} --vip given for ${masters.length} monitored master${masters.length === 1 ? '' : 's'}: give one per master, in the order of the monitor lines`, this.log.sorted());
    }
    const vrid = this.options.vrid;
    if (vrid !== undefined && vrid + masters.length - 1 > 255) {
      throw new SentinelImportError(first?.line ?? 1, `--vrid ${vrid}: the ${masters.length} masters take VRIDs ${vrid}..${vrid + masters.length - 1}, and VRIDs end at 255`, this.log.sorted());
    }
    for (const vip of vips) {
      for (const m of masters) {
        const host = m.hosts.find((h) => canonicalAddress(h.text) === vip.address);
        if (host !== undefined) {
          throw new SentinelImportError(host.line, `--vip ${vip.address}/${vip.prefixLength} is the address of a host of ${this.show(m.name)}: a VIP must be an address no host has`, this.log.sorted());
        }
      }
    }
  }

  // -- Output -----------------------------------------------------------------------------------

  /** A password file that no other secret of this conversion uses. */
  private passwordFile(name: string): string {
    let base = fileSafe(name);
    for (let k = 2; this.files.has(base); k++) base = `${fileSafe(name)}-${k}`;
    this.files.add(base);
    return `${PASSWORD_DIR}/${base}.pass`;
  }

  private renderAgent(): Section {
    const a = this.agent;
    const port = this.port ?? { value: SENTINEL_PORT, line: 0 };
    if (port.value === 0) {
      this.warn(port.line, 'port 0: this Sentinel does not listen on TCP, so no Sentinel endpoint is written (sentinel_address)', a, 'sentinel_address');
    } else {
      a.note(
        port.line === 0
          ? `Sentinel's default port ${SENTINEL_PORT} (no usable port line): Sentinel-aware clients keep asking there`
          : `Sentinel's port (line ${port.line}): redkeep answers the Sentinel protocol there, so Sentinel-aware clients keep working`,
        'sentinel_address',
      );
      a.set('sentinel_address', tomlString(`0.0.0.0:${port.value}`));
    }
    if (this.requirepass !== undefined) {
      const line = this.requirepass.line;
      if (a.empty) this.warn(line, 'requirepass: there is no Sentinel endpoint (port 0), so no password for it: left out', a);
      else {
        const file = this.passwordFile('sentinel');
        this.warn(line, `requirepass: write the password into ${file} (the password Sentinel clients AUTH with; readable by the redkeep user only)`, a, 'sentinel_password_file');
        a.set('sentinel_password_file', tomlString(file));
      }
    }
    if (this.logLevel !== undefined) {
      const level = LOG_LEVELS[this.logLevel.value] ?? 'info';
      a.note(`loglevel ${this.logLevel.value} (line ${this.logLevel.line})`, 'log_level');
      a.set('log_level', tomlString(level));
    }
    return a;
  }

  private render(masters: readonly MasterDef[]): string {
    const agent = this.renderAgent();
    const blocks = masters.map((m, i) => this.renderMaster(m, i));
    const out: string[] = [
      comment(`redkeep configuration generated by \`redkeep import-sentinel\` from ${this.file}.`),
      '# Lines starting with "# CHECK" name Sentinel settings that redkeep takes differently or not at',
      '# all, and placeholders to replace: read them before using this file. Check it with:',
      '# redkeep check-config FILE',
    ];
    const top = [...this.log.top, ...(agent.empty ? agent.notes() : [])];
    if (top.length > 0) out.push('#', ...byLine(top));
    if (!agent.empty) out.push('', ...agent.render());
    for (const b of blocks) out.push(...b);
    return `${out.join('\n')}\n`;
  }

  /** The family of a master's instance: its VIP's, else its hosts'. */
  private familyOf(m: MasterDef, vip: Cidr | undefined): AddressFamily {
    if (vip !== undefined) return vip.family;
    for (const h of m.hosts) {
      const f = addressFamilyOf(h.text);
      if (f !== undefined) return f;
    }
    return 'ipv4';
  }

  /** The placeholder VIP of master `index`: a documentation address no option took and no host has. */
  private placeholderVip(index: number, family: AddressFamily): string {
    const hosts = [...this.masters.values()].flatMap((m) => m.hosts.map((h) => canonicalAddress(h.text)));
    const taken = new Set([...(this.options.vips ?? []).map((v) => v.address), ...hosts]);
    for (let k = 10 + index; ; k++) {
      const a = family === 'ipv4' ? `192.0.2.${k}` : `2001:db8::${k.toString(16)}`;
      if (!taken.has(a)) return family === 'ipv4' ? `${a}/24` : `${a}/64`;
    }
  }

  /** The members: the hosts Sentinel knew, deduplicated, of the instance's family, not loopback. */
  private members(m: MasterDef, family: AddressFamily): Member[] {
    const out: Member[] = [];
    const s = m.section;
    for (const h of m.hosts) {
      const c = canonicalAddress(h.text);
      const f = addressFamilyOf(h.text);
      const at = `${h.what === 'master' ? 'the master' : h.what} ${this.show(h.text)}`;
      if (c === undefined || f === undefined) {
        this.warn(h.line, `${at} is a host name: redkeep's members are IP addresses, so it is left out (add its address to members)`, s, 'members');
      } else if (isLoopback(c)) {
        this.warn(h.line, `${at} is a loopback address, this host itself: a member is a host's advert source (its interface address), so it is left out`, s, 'members');
      } else if (!isUnicast(c)) {
        this.warn(h.line, `${at} is not a unicast address: left out`, s, 'members');
      } else if (f !== family) {
        this.warn(h.line, `${at} is ${f}, the instance is ${family} (its VIP's family): left out`, s, 'members');
      } else if (!out.some((x) => x.address === c)) out.push({ address: c, line: h.line });
      if (h.what !== 'known-sentinel' && h.port !== m.port) {
        this.warn(h.line, `${at} has Redis on port ${h.port}: redkeep reaches every member's Redis on one port, peer_port = ${m.port}`, m.redisSection, 'peer_port');
      }
    }
    // A host that runs a Sentinel but no Redis Sentinel knew of is a voter without data: a witness.
    const redisHosts = new Set(m.hosts.filter((h) => h.what !== 'known-sentinel').map((h) => canonicalAddress(h.text) ?? h.text));
    for (const h of m.hosts) {
      const c = canonicalAddress(h.text);
      if (h.what !== 'known-sentinel' || c === undefined || redisHosts.has(c) || !out.some((x) => x.address === c)) continue;
      redisHosts.add(c);
      this.warn(h.line, `known-sentinel ${this.show(h.text)} runs a Sentinel but no Redis this Sentinel knew of: if that host has no Redis, run \`redkeep witness\` there and move ${c} from members to witnesses`, s, 'members');
    }
    return out;
  }

  private renderMaster(m: MasterDef, index: number): string[] {
    const s = m.section;
    const opt = this.options;
    const vip = opt.vips?.[index];
    const family = this.familyOf(m, vip);
    s.note(`from sentinel monitor ${m.name} (line ${m.line})`);
    s.set('name', tomlString(m.name));

    if (opt.interface === undefined) {
      this.warn(m.line, `placeholder: interface "${PLACEHOLDER_INTERFACE}"; set the interface the VIP lives on (--interface)`, s, 'interface');
    }
    s.set('interface', tomlString(opt.interface ?? PLACEHOLDER_INTERFACE));
    const vrid = (opt.vrid ?? PLACEHOLDER_VRID) + index;
    if (opt.vrid === undefined) {
      this.warn(m.line, `placeholder: vrid ${vrid}; choose a VRID no other VRRP router uses on this network, the same on every host (--vrid)`, s, 'vrid');
    }
    s.set('vrid', String(vrid));
    if (opt.priority === undefined) {
      this.warn(m.line, `placeholder: priority ${PLACEHOLDER_PRIORITY}; give each host its own (e.g. 150, 100, 50): the highest healthy one is master (--priority)`, s, 'priority');
    }
    s.set('priority', String(opt.priority ?? PLACEHOLDER_PRIORITY));

    const downAfter = m.downAfter ?? { ms: DOWN_AFTER_MS, line: 0 };
    const cs = advertIntervalCsFor(downAfter.ms) ?? MIN_ADVERT_CS;
    const mdi = masterDownIntervalMs(3, 1, cs);
    const from = downAfter.line === 0 ? `Sentinel's default down-after-milliseconds ${downAfter.ms} (no line for ${m.name})` : `down-after-milliseconds ${downAfter.ms} (line ${downAfter.line})`;
    if (mdi > downAfter.ms) {
      this.warn(downAfter.line || m.line, `down-after-milliseconds ${downAfter.ms}: redkeep's shortest advert interval for an import, 100ms, gives a Master_Down_Interval of up to ${mdi} ms, longer than that`, s, 'advert_interval');
    } else {
      s.note(`${from}: Master_Down_Interval = 3 x ${cs * 10} ms + Skew_Time <= ${Math.floor(mdi)} ms at any priority (RFC 5798 §6.1); shorter adverts fail over sooner`, 'advert_interval');
    }
    s.set('advert_interval', tomlString(durationMs(cs * 10)));

    if (vip === undefined) {
      const placeholder = this.placeholderVip(index, family);
      this.warn(m.line, `placeholder: virtual address ${placeholder} (a documentation address); a Sentinel setup has none: choose the address clients will write to (--vip)`, s, 'virtual_addresses');
      s.set('virtual_addresses', tomlArray([tomlString(placeholder)]));
    } else s.set('virtual_addresses', tomlArray([tomlString(`${vip.address}/${vip.prefixLength}`)]));

    const members = this.members(m, family);
    const lines = [...new Set(m.hosts.map((h) => h.line))];
    s.note(`the hosts of sentinel monitor, known-replica and known-sentinel (line${lines.length === 1 ? '' : 's'} ${listed(lines.map(String))}); this host's own address may stay`, 'members');
    s.set('members', tomlArray(members.map((x) => tomlString(x.address))));

    const r = m.redisSection;
    r.set('address', tomlString(`127.0.0.1:${m.port}`));
    r.set('peer_port', String(m.port));
    if (m.username !== undefined) r.set('username', tomlString(m.username.value));
    if (m.password !== undefined) {
      const file = this.passwordFile(m.name);
      this.warn(m.password.line, `sentinel auth-pass ${this.show(m.name)}: write the password into ${file} (the password of the Redis servers; readable by the redkeep user only)`, r, 'password_file');
      r.set('password_file', tomlString(file));
    }
    r.note('redkeep makes the VRRP master a Redis master and the others its replicas, with its data guards', 'manage_role');
    r.set('manage_role', 'true');
    if (m.quorum !== undefined) {
      const n = members.length + 1;
      let quorum = m.quorum;
      if (quorum > n) {
        this.warn(m.line, `quorum ${quorum} is more than the ${n} hosts there can be (the members and this one): using ${n}`, r, 'quorum');
        quorum = n;
      }
      r.note(`Sentinel's quorum (line ${m.line}) counts Sentinels that agree the master is down; redkeep's counts members, this host included, that must be reachable for a host to be master`, 'quorum');
      r.set('quorum', String(quorum));
    }

    const h = m.hooksSection;
    if (m.reconfig !== undefined) {
      h.note(`client-reconfig-script (line ${m.reconfig.line}): called with Sentinel's arguments, name role state from-ip from-port to-ip to-port`, 'client_reconfig');
      this.warn(
        m.reconfig.line,
        `sentinel client-reconfig-script ${this.show(m.name)}: redkeep runs hooks as the unprivileged user redkeep under its systemd sandbox (read-only file system but for ReadWritePaths=, no sudo), not as the user Sentinel ran as: check what the script needs`,
        h,
        'client_reconfig',
      );
      h.set('client_reconfig', tomlArray([tomlString(m.reconfig.path)]));
    }

    const out = ['', ...s.render(), '', ...r.render()];
    // A hooks table without a hook is not written; its comments stay.
    if (!h.empty) out.push('', ...h.render());
    else if (h.notes().length > 0) out.push('', ...byLine(h.notes()));
    return out;
  }
}

/**
 * Converts sentinel.conf text into redkeep TOML. `file` names the source in the TOML header.
 * Throws SentinelImportError when no master can be converted or the options do not fit the
 * file; never anything else.
 */
export function convertSentinel(text: string, file: string, options: SentinelImportOptions = {}): Conversion {
  return new Converter(file, options).run(text);
}
