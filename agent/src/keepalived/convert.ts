// keepalived.conf -> redkeep TOML, for `redkeep import-keepalived`. Pure: text in, TOML text and
// warnings out. Every keepalived setting is either mapped, or reported with its line (as a
// warning, and as a "# CHECK" comment in the TOML next to where it would have gone); nothing is
// dropped silently. Where keepalived 2.2.7 reads a setting in a surprising way (a script not in
// quotes, state MASTER without a priority, a fractional VRRPv2 interval), the conversion does
// what keepalived does and says so.
//
// Secrets: the auth_pass value goes into the TOML (it must), never into a warning or comment.

import { type AddressFamily, addressFamilyOf, canonicalAddress, hostPortText, parseCidr } from '@redkeep/vrrp';
import { type Conversion, ConversionError, type ImportWarning, Section, WarningLog, byLine, comment, tomlArray, tomlInline, tomlString } from '../import/toml-writer.js';
import { type KeepalivedNode, type ParseOptions, parseKeepalived, show, splitScript } from './parse.js';

export type { ImportWarning } from '../import/toml-writer.js';
export { tomlString } from '../import/toml-writer.js';

export type KeepalivedConversion = Conversion;

/** Nothing could be converted (no usable vrrp_instance): there is no redkeep configuration to give. */
export class KeepalivedImportError extends ConversionError {
  override readonly name = 'KeepalivedImportError';
  readonly code = 'ERR_KEEPALIVED_IMPORT';
}

// ---------------------------------------------------------------------------------------------
// Values

const int = (s: string | undefined): number | undefined => (s !== undefined && /^[+-]?\d{1,9}$/.test(s) ? Number(s) : undefined);

/** Decimal seconds ("1", "0.1", ".5") in microseconds, keepalived's timer resolution. */
function secondsUs(s: string | undefined): number | undefined {
  if (s === undefined || !/^(\d{1,9}(\.\d*)?|\.\d+)$/.test(s)) return undefined;
  return Math.round(Number(s) * 1e6);
}

/** A redkeep duration string for a number of microseconds: "100ms", "2s", "0.5ms". */
function duration(us: number): string {
  if (us % 1_000_000 === 0) return `${us / 1_000_000}s`;
  if (us % 1000 === 0) return `${us / 1000}ms`;
  return `${(us / 1000).toFixed(3).replace(/0+$/, '')}ms`;
}

const BOOL_TRUE = new Set(['on', 'true', 'yes']);
const BOOL_FALSE = new Set(['off', 'false', 'no']);

/** keepalived's optional <BOOL>: no argument means true. */
function optionalBool(n: KeepalivedNode): boolean | undefined {
  const a = n.args[0];
  if (a === undefined) return true;
  if (BOOL_TRUE.has(a.toLowerCase())) return true;
  if (BOOL_FALSE.has(a.toLowerCase())) return false;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// What is not mapped, and why

const TOP_UNSUPPORTED: Record<string, string> = {
  vrrp_sync_group: 'redkeep has no sync groups, each instance fails over on its own; the group, its members list, its notify scripts and its tracks are left out',
  virtual_server: 'redkeep does not configure IPVS (LVS) load balancing',
  virtual_server_group: 'redkeep does not configure IPVS (LVS) load balancing',
  static_ipaddress: "redkeep does not manage static addresses: keep them in the host's network configuration",
  static_routes: "redkeep does not manage routes: keep them in the host's network configuration",
  static_rules: "redkeep does not manage routing rules: keep them in the host's network configuration",
  static_track_group: 'redkeep does not manage static addresses, routes or rules',
  linkbeat_interfaces: 'redkeep follows link state through netlink only',
  track_file: 'use an exec [[track]] that checks the file instead',
  vrrp_track_file: 'use an exec [[track]] that checks the file instead',
  vrrp_track_process: 'use an exec [[track]] (for example ["pidof", "redis-server"]) or a redis-ping [[track]] instead',
  bfd_instance: 'redkeep has no BFD',
  net_namespace: 'run redkeep inside the namespace instead',
};

const GLOBAL_UNSUPPORTED: Record<string, string> = {
  script_user: "redkeep runs hooks and exec tracks as its own user: run redkeep as that user, or use sudo -u in the command",
  enable_script_security: 'redkeep runs hooks and exec tracks as its own user; keep the scripts writable by root only',
  notification_email: 'redkeep sends no email: use a hook',
  notification_email_from: 'redkeep sends no email: use a hook',
  smtp_server: 'redkeep sends no email: use a hook',
  smtp_connect_timeout: 'redkeep sends no email: use a hook',
  smtp_helo_name: 'redkeep sends no email: use a hook',
  smtp_alert: 'redkeep sends no email: use a hook',
  vrrp_strict: 'redkeep has no strict mode (it refuses authentication with VRRPv3 and an empty address list in any case)',
  vrrp_mcast_group4: 'redkeep uses the RFC 5798 multicast group 224.0.0.18',
  vrrp_mcast_group6: 'redkeep uses the RFC 5798 multicast group ff02::12',
  notify_fifo: 'redkeep has no notify FIFO: use a notify hook',
  vrrp_notify_fifo: 'redkeep has no notify FIFO: use a notify hook',
  vrrp_garp_extra_if: 'redkeep sends gratuitous ARPs / NAs on the instance interface only',
  net_namespace: 'run redkeep inside the namespace instead',
};

const INSTANCE_UNSUPPORTED: Record<string, string> = {
  use_vmac: "redkeep has no virtual MAC: the addresses keep the interface's MAC and gratuitous ARPs / NAs announce it",
  vmac_xmit_base: 'redkeep has no virtual MAC',
  use_vmac_addr: 'redkeep has no virtual MAC',
  use_ipvlan: 'redkeep has no ipvlan interfaces',
  vrf: 'redkeep has no VRF setting: run it in the VRF instead',
  native_ipv6: 'deprecated in keepalived: the addresses decide the family, as in redkeep',
  dont_track_primary: 'redkeep always follows its interface: a down interface means Fault',
  track_src_ip: 'redkeep waits for a source address and says so in its status',
  mcast_src_ip: "redkeep sends multicast adverts from the interface's first address (IPv4) or link-local address (IPv6)",
  mcast_dst_ip: 'redkeep uses the RFC 5798 multicast groups 224.0.0.18 and ff02::12',
  virtual_ipaddress_excluded: 'redkeep has no addresses outside the advert: list them in virtual_addresses, or in an instance of their own family',
  virtual_routes: 'redkeep does not manage routes: add them from a master hook',
  virtual_rules: 'redkeep does not manage routing rules: add them from a master hook',
  track_file: 'use an exec [[track]] that checks the file instead',
  track_process: 'use an exec [[track]] (for example ["pidof", "redis-server"]) or a redis-ping [[track]] instead',
  track_bfd: 'redkeep has no BFD',
  accept: 'redkeep has no accept-mode setting',
  no_accept: 'redkeep has no accept-mode setting: it does not filter packets sent to the addresses',
  strict_mode: 'redkeep has no strict mode',
  skip_check_adv_addr: 'redkeep has no such setting',
  unicast_ttl: 'redkeep sends unicast adverts with TTL 255 (RFC 5798 §5.1.1.3)',
  unicast_fault_no_peer: 'redkeep needs at least one unicast peer in unicast mode',
  old_unicast_checksum: 'redkeep uses the RFC 5798 checksum',
  v3_checksum_as_v2: 'redkeep uses the RFC 5798 checksum, with the pseudo-header',
  down_timer_adverts: 'redkeep uses the RFC 5798 Master_Down_Interval (3 adverts + skew)',
  timer_expired_backup: 'redkeep has no such setting',
  lower_prio_no_advert: 'redkeep has no such setting',
  higher_prio_send_advert: 'redkeep has no such setting',
  promote_secondaries: 'redkeep does not change interface settings',
  debug: 'use [agent] log_level',
  kernel_rx_buf_size: 'redkeep has no such setting',
  linkbeat_use_polling: 'redkeep follows link state through netlink only',
  notify_master_rx_lower_pri: 'redkeep has no hook for a lower-priority advert',
  notify_priority_changes: 'redkeep has no notify FIFO',
  smtp_alert: 'redkeep sends no email: use a hook',
  garp_extra_if: 'redkeep sends gratuitous ARPs / NAs on the instance interface only',
  no_virtual_ipaddress: 'redkeep needs at least one virtual address',
  auth_hmac: 'redkeep has no HMAC authentication extension',
};

const SCRIPT_UNSUPPORTED: Record<string, string> = {
  user: 'redkeep runs exec tracks as its own user',
};

const NOT_MAPPED = 'it has no equivalent and is left out';

// ---------------------------------------------------------------------------------------------
// The conversion

interface GarpSetting {
  repeat?: number | undefined;
  delayUs?: number | undefined;
  refreshUs?: number | undefined;
  refreshRepeat?: number | undefined;
  lowerRepeat?: number | undefined;
  lowerDelayUs?: number | undefined;
  /** Gratuitous ARP spacing (IPv4). */
  intervalUs?: number | undefined;
  /** Unsolicited NA spacing (IPv6). */
  gnaIntervalUs?: number | undefined;
}

interface ScriptDef {
  name: string;
  line: number;
  section: Section;
  /** Skipped (no usable script, or reverse): not written, references to it are dropped. */
  skip: boolean;
  /** The argv redkeep runs for an exec track. */
  command: string[];
  /** A plain redis-cli PING of this Redis, as host:port. */
  ping: string | undefined;
  intervalUs: number;
  timeoutUs: number | undefined;
  rise: number | undefined;
  fall: number | undefined;
  weight: number | undefined;
  referenced: boolean;
  /** The vrrp_script's `user` (keepalived runs the script as that user). */
  user: string | undefined;
}

interface InstanceDef {
  name: string;
  line: number;
  section: Section;
  redisSection: Section;
  hooksSection: Section;
  skip: boolean;
  interface: string | undefined;
  family: AddressFamily;
  priority: number;
  refs: { name: string; weight: number | undefined }[];
  redis: string | undefined;
  vrid: number | undefined;
  /** The virtual addresses written, canonical. */
  addresses: string[];
  /** Unicast mode (unicast_peer given): the peers are the members. */
  unicast: boolean;
  /** The notify scripts written as hooks, with the user keepalived was told to run each as. */
  hookScripts: { keyword: string; line: number; user: string | undefined }[];
}

const MAX_WEIGHT = 253;
const REDKEEP_GARP_DEFAULTS = { repeat: 5, delayUs: 5_000_000, refreshUs: 0, refreshRepeat: 1, lowerRepeat: 5, intervalUs: 0 };
const RESERVED_TRACK_NAMES = new Set(['redis-safety', 'redis-data']);

class Converter {
  private readonly log = new WarningLog();
  private routerId: string | undefined;
  private routerIdLine = 0;
  /** global_defs script_user: whom keepalived runs scripts as, unless a script names its own user. */
  private scriptUser: string | undefined;
  private globalVersion: 2 | 3 | undefined;
  private readonly globalGarp: GarpSetting = {};
  private minGarp = false;
  /** garp_group intervals by interface. */
  private readonly groupGarp = new Map<string, { intervalUs?: number | undefined; gnaIntervalUs?: number | undefined }>();
  private readonly scripts = new Map<string, ScriptDef>();
  private readonly instances: InstanceDef[] = [];

  constructor(
    private readonly file: string,
    private readonly options: ParseOptions,
  ) {}

  warn(line: number, message: string, at?: Section, key?: string): void {
    this.log.warn(line, message, at, key);
  }

  unsupported(n: KeepalivedNode, reason: string, at?: Section): void {
    this.warn(n.line, `${n.keyword} is not supported by redkeep: ${reason}`, at);
  }

  /** The single argument of a statement, or a warning. */
  private one(n: KeepalivedNode, at: Section | undefined, what: string): string | undefined {
    const a = n.args[0];
    if (a === undefined || a === '') {
      this.warn(n.line, `${n.keyword} needs ${what}: left out`, at);
      return undefined;
    }
    if (n.args.length > 1) this.warn(n.line, `${n.keyword}: ignored the words after ${show(a)}`, at);
    if (n.block) this.warn(n.line, `${n.keyword} does not take a { } block: the block is ignored`, at);
    return a;
  }

  /** A statement that must have a block. */
  private block(n: KeepalivedNode, at: Section | undefined): readonly KeepalivedNode[] {
    if (n.block === undefined) {
      this.warn(n.line, `${n.keyword} needs a { } block: left out`, at);
      return [];
    }
    return n.block;
  }

  private intIn(n: KeepalivedNode, at: Section | undefined, min: number, max: number, key?: string): number | undefined {
    const v = this.one(n, at, `an integer ${min}..${max}`);
    if (v === undefined) return undefined;
    const i = int(v);
    if (i === undefined || i < min || i > max) {
      this.warn(n.line, `${n.keyword} ${show(v)} is not an integer ${min}..${max}: left out`, at, key);
      return undefined;
    }
    return i;
  }

  private secondsIn(n: KeepalivedNode, at: Section | undefined, key?: string): number | undefined {
    const v = this.one(n, at, 'a number of seconds');
    if (v === undefined) return undefined;
    const us = secondsUs(v);
    if (us === undefined) this.warn(n.line, `${n.keyword} ${show(v)} is not a number of seconds: left out`, at, key);
    return us;
  }

  run(text: string): KeepalivedConversion {
    const doc = parseKeepalived(text, this.options);
    for (const w of doc.warnings) this.warn(w.line, w.message);
    const instanceNodes: KeepalivedNode[] = [];
    for (const n of doc.nodes) {
      switch (n.keyword) {
        case 'global_defs':
          this.globalDefs(this.block(n, undefined));
          break;
        case 'vrrp_script':
          this.script(n);
          break;
        case 'vrrp_instance':
          instanceNodes.push(n);
          break;
        case 'garp_group':
          this.garpGroup(n);
          break;
        default: {
          const reason = TOP_UNSUPPORTED[n.keyword];
          if (reason !== undefined) this.unsupported(n, reason);
          else this.warn(n.line, `${n.keyword} is not supported by redkeep: it is not a keepalived section redkeep knows, left out`);
        }
      }
    }
    for (const n of instanceNodes) this.instance(n);
    this.resolveRedis();
    this.advise();
    const kept = this.instances.filter((i) => !i.skip);
    if (kept.length === 0) {
      const first = this.instances[0];
      const message = first
        ? 'no vrrp_instance could be converted (see the warnings): redkeep needs at least one'
        : 'there is no vrrp_instance to convert: redkeep needs at least one';
      throw new KeepalivedImportError(first?.line ?? 1, message, this.sorted());
    }
    return { toml: this.render(), warnings: this.sorted() };
  }

  private sorted(): ImportWarning[] {
    return this.log.sorted();
  }

  // -- global_defs, garp_group -----------------------------------------------------------------

  private globalDefs(nodes: readonly KeepalivedNode[]): void {
    for (const n of nodes) {
      const g = this.globalGarp;
      switch (n.keyword) {
        case 'router_id': {
          const v = this.one(n, undefined, 'a name');
          if (v !== undefined && v !== '') {
            this.routerId = v;
            this.routerIdLine = n.line;
          }
          break;
        }
        case 'vrrp_version': {
          const v = this.intIn(n, undefined, 2, 3);
          if (v === 2 || v === 3) this.globalVersion = v;
          break;
        }
        case 'vrrp_garp_master_repeat':
          g.repeat = this.garpCount(n, undefined) ?? g.repeat;
          break;
        case 'vrrp_garp_master_delay':
          g.delayUs = this.garpSeconds(n, undefined) ?? g.delayUs;
          break;
        case 'vrrp_garp_master_refresh':
          g.refreshUs = this.garpSeconds(n, undefined) ?? g.refreshUs;
          break;
        case 'vrrp_garp_master_refresh_repeat':
          g.refreshRepeat = this.garpCount(n, undefined) ?? g.refreshRepeat;
          break;
        case 'vrrp_garp_lower_prio_repeat':
          g.lowerRepeat = this.garpCount(n, undefined) ?? g.lowerRepeat;
          break;
        case 'vrrp_garp_lower_prio_delay':
          g.lowerDelayUs = this.garpSeconds(n, undefined) ?? g.lowerDelayUs;
          break;
        case 'vrrp_garp_interval':
          g.intervalUs = this.garpInterval(n, undefined) ?? g.intervalUs;
          break;
        case 'vrrp_gna_interval':
          g.gnaIntervalUs = this.garpInterval(n, undefined) ?? g.gnaIntervalUs;
          break;
        case 'vrrp_min_garp': {
          const b = optionalBool(n);
          if (b === undefined) this.warn(n.line, `vrrp_min_garp ${show(n.args[0] ?? '')} is not on/off/true/false/yes/no: left out`);
          else this.minGarp = b;
          break;
        }
        case 'vrrp_check_unicast_src':
          // redkeep accepts unicast adverts from its unicast_peers only: what this turns on.
          break;
        default: {
          if (n.keyword === 'script_user') this.scriptUser = n.args[0] ?? this.scriptUser;
          const reason = GLOBAL_UNSUPPORTED[n.keyword];
          this.warn(n.line, `${n.keyword} is not supported by redkeep: ${reason ?? `it is a keepalived daemon setting without an equivalent, left out`}`);
        }
      }
    }
  }

  private garpGroup(n: KeepalivedNode): void {
    const set: { intervalUs?: number | undefined; gnaIntervalUs?: number | undefined } = {};
    const ifaces: string[] = [];
    for (const c of this.block(n, undefined)) {
      switch (c.keyword) {
        case 'garp_interval': {
          const v = this.garpInterval(c, undefined);
          if (v !== undefined) set.intervalUs = v;
          break;
        }
        case 'gna_interval': {
          const v = this.garpInterval(c, undefined);
          if (v !== undefined) set.gnaIntervalUs = v;
          break;
        }
        case 'interface': {
          const v = this.one(c, undefined, 'an interface name');
          if (v !== undefined) ifaces.push(v);
          break;
        }
        case 'interfaces':
          for (const i of this.block(c, undefined)) ifaces.push(i.keyword, ...i.args);
          if (c.block && c.block.length > 1) {
            this.warn(c.line, 'garp_group interfaces: keepalived spreads the interval over all of them together; redkeep applies it to each interface on its own');
          }
          break;
        default:
          this.warn(c.line, `${c.keyword} is not supported by redkeep: ${NOT_MAPPED} (in garp_group)`);
      }
    }
    if (ifaces.length === 0) this.warn(n.line, 'garp_group names no interface: left out');
    for (const i of ifaces) this.groupGarp.set(i, { ...this.groupGarp.get(i), ...set });
  }

  private garpCount(n: KeepalivedNode, at: Section | undefined): number | undefined {
    return this.intIn(n, at, 0, 1000, 'garp');
  }

  /** Whole seconds in keepalived (delay, refresh). */
  private garpSeconds(n: KeepalivedNode, at: Section | undefined): number | undefined {
    const v = this.intIn(n, at, 0, 86_400, 'garp');
    return v === undefined ? undefined : v * 1_000_000;
  }

  private garpInterval(n: KeepalivedNode, at: Section | undefined): number | undefined {
    const us = this.secondsIn(n, at, 'garp');
    if (us === undefined) return undefined;
    if (us > 1_000_000) {
      this.warn(n.line, `${n.keyword} ${show(n.args[0] ?? '')}: redkeep spaces the packets of a burst by at most 1 s; using "1s"`, at, 'garp');
      return 1_000_000;
    }
    return us;
  }

  // -- vrrp_script ------------------------------------------------------------------------------

  private script(n: KeepalivedNode): void {
    const section = new Section('[[track]]');
    let name = n.args[0];
    if (name === undefined || name === '') {
      this.warn(n.line, 'vrrp_script has no name: left out');
      return;
    }
    if (n.args.length > 1) this.warn(n.line, `vrrp_script ${show(name)}: ignored the words after the name`, section);
    if (this.scripts.has(name)) {
      this.warn(n.line, `vrrp_script ${show(name)} is defined twice: the first definition is used`);
      return;
    }
    if ([...this.scripts.values()].some((x) => x.name === name)) {
      this.warn(n.line, `vrrp_script ${show(name)}: a renamed track already has that name: left out`);
      return;
    }
    const def: ScriptDef = {
      name,
      line: n.line,
      section,
      skip: false,
      command: [],
      ping: undefined,
      intervalUs: 1_000_000,
      timeoutUs: undefined,
      rise: undefined,
      fall: undefined,
      weight: undefined,
      referenced: false,
      user: undefined,
    };
    this.scripts.set(name, def);
    if (RESERVED_TRACK_NAMES.has(name)) {
      let renamed = `${name}-script`;
      for (let k = 2; [...this.scripts.keys()].includes(renamed) || [...this.scripts.values()].some((x) => x.name === renamed); k++) renamed = `${name}-script-${k}`;
      this.warn(n.line, `vrrp_script ${show(name)}: that name is one of redkeep's own guards; the track is named ${show(renamed)}`, section, 'name');
      name = renamed;
      def.name = renamed;
    }
    let scriptSeen = false;
    for (const c of this.block(n, undefined)) {
      switch (c.keyword) {
        case 'script': {
          const raw = c.args[0];
          if (raw === undefined) {
            this.warn(c.line, 'script needs a command: left out', section);
            break;
          }
          scriptSeen = true;
          if (c.args.length > 1) {
            this.warn(
              c.line,
              `script is not in quotes, so keepalived runs only ${show(raw)} and ignores ${show(c.args.slice(1).join(' '))}; converted the same way (to run the whole command, put it in quotes and convert again)`,
              section,
              'command',
            );
          }
          this.scriptCommand(def, raw, c.line);
          break;
        }
        case 'interval': {
          const us = this.secondsIn(c, section, 'interval');
          if (us === undefined) break;
          if (us < 10_000) this.warn(c.line, `interval ${show(c.args[0] ?? '')} is below redkeep's 10 ms: using "10ms"`, section, 'interval');
          def.intervalUs = Math.max(10_000, us);
          break;
        }
        case 'timeout': {
          const us = this.secondsIn(c, section, 'timeout');
          if (us === undefined) break;
          // keepalived reads 0 as "not set": the interval.
          if (us === 0) break;
          def.timeoutUs = us;
          break;
        }
        case 'rise':
          def.rise = this.intIn(c, section, 1, 100, 'rise') ?? def.rise;
          break;
        case 'fall':
          def.fall = this.intIn(c, section, 1, 100, 'fall') ?? def.fall;
          break;
        case 'weight': {
          const w = this.weight(c, section, c.args, 'weight', c.args[1] === 'reverse' ? `the vrrp_script ${show(def.name)} is left out, and every track_script of it` : 'the weight is left out (0)');
          if (w === 'reverse') def.skip = true;
          else if (w !== undefined) def.weight = w;
          break;
        }
        case 'init_fail':
          // redkeep tracks start failed until their first success: init_fail is its behaviour.
          break;
        default:
          if (c.keyword === 'user') def.user = c.args[0] ?? def.user;
          this.warn(c.line, `${c.keyword} is not supported by redkeep: ${SCRIPT_UNSUPPORTED[c.keyword] ?? `${NOT_MAPPED} (in vrrp_script)`}`, section);
      }
    }
    if (!scriptSeen) {
      this.warn(n.line, `vrrp_script ${show(def.name)} has no script: left out`);
      def.skip = true;
    }
    if (def.timeoutUs !== undefined && def.timeoutUs > 60_000_000) {
      this.warn(n.line, `vrrp_script ${show(def.name)}: a timeout above 60 s is not accepted by redkeep; using "60s"`, section, 'timeout');
      def.timeoutUs = 60_000_000;
    }
  }

  private scriptCommand(def: ScriptDef, raw: string, line: number): void {
    def.ping = redisPingTarget(raw);
    const argv = this.argv(raw, line, def.section, 'command', 'script');
    if (argv === undefined) {
      def.skip = true;
      return;
    }
    def.command = argv;
  }

  /**
   * The argv of a keepalived script string. keepalived runs it without a shell; pipes and the
   * like are run through /bin/sh -c here, with a warning.
   */
  private argv(raw: string, line: number, at: Section, key: string, what: string): string[] | undefined {
    const split = splitScript(raw);
    if (split.shellSyntax) {
      this.warn(
        line,
        `${what} ${show(raw)} uses shell syntax, but keepalived runs scripts without a shell (it would pass the operators to the program as arguments); converted to ["/bin/sh", "-c", ...], which runs it as written: check that this is what you meant`,
        at,
        key,
      );
      return ['/bin/sh', '-c', raw];
    }
    const argv = split.argv.filter((a) => a !== '');
    if (argv.length !== split.argv.length) this.warn(line, `${what}: redkeep does not take empty arguments; left them out`, at, key);
    if (argv.length === 0) {
      this.warn(line, `${what} is empty: left out`, at, key);
      return undefined;
    }
    return argv;
  }

  /** `weight N [reverse|noreverse]` from the words after the keyword `weight`. */
  private weight(n: KeepalivedNode, at: Section, words: readonly string[], key: string, leftOut: string): number | 'reverse' | undefined {
    const v = words[0];
    const w = int(v);
    if (v === undefined || w === undefined || w < -MAX_WEIGHT || w > MAX_WEIGHT) {
      this.warn(n.line, `weight ${show(v ?? '')} is not an integer -253..253: ${leftOut}`, at, key);
      return undefined;
    }
    const flag = words[1];
    if (flag === 'reverse') {
      this.warn(n.line, `weight ${w} reverse is not supported by redkeep (a weight works in one direction only): ${leftOut}`, at, key);
      return 'reverse';
    }
    if (flag !== undefined && flag !== 'noreverse') this.warn(n.line, `weight: ignored ${show(words.slice(1).join(' '))}`, at, key);
    return w;
  }

  // -- vrrp_instance ----------------------------------------------------------------------------

  private instance(n: KeepalivedNode): void {
    const section = new Section('[[instance]]');
    const redisSection = new Section('[instance.redis]');
    const hooksSection = new Section('[instance.hooks]');
    const nameRaw = n.args[0] === '' ? undefined : n.args[0];
    const name = nameRaw ?? `instance-${this.instances.length + 1}`;
    const inst: InstanceDef = {
      name,
      line: n.line,
      section,
      redisSection,
      hooksSection,
      skip: false,
      interface: undefined,
      family: 'ipv4',
      priority: 100,
      refs: [],
      redis: undefined,
      vrid: undefined,
      addresses: [],
      unicast: false,
      hookScripts: [],
    };
    this.instances.push(inst);
    if (nameRaw === undefined) this.warn(n.line, `vrrp_instance has no name: named it ${show(name)}`, section, 'name');
    else if (n.args.length > 1) this.warn(n.line, `vrrp_instance ${show(name)}: ignored the words after the name`, section);
    if (this.instances.some((i) => i !== inst && i.name === name)) {
      this.warn(n.line, `vrrp_instance ${show(name)} is defined twice: the second one is left out`);
      inst.skip = true;
      return;
    }

    let ifname: string | undefined;
    let vrid: number | undefined;
    let priority: number | undefined;
    let version: 2 | 3 | undefined;
    let versionLine = 0;
    let advertUs: number | undefined;
    let advertLine = n.line;
    let state: { value: string; line: number } | undefined;
    let nopreemptLine: number | undefined;
    let preemptDelayUs: number | undefined;
    let preemptDelayLine = n.line;
    const vipRaw: { text: string; options: string[]; line: number }[] = [];
    let vipLine = n.line;
    let unicastSrc: { value: string; line: number } | undefined;
    const peerRaw: { text: string; line: number }[] = [];
    let auth: { type: string | undefined; pass: string | undefined; line: number; passLine: number } | undefined;
    const trackIfs: { name: string; weight: number; line: number }[] = [];
    const garp: GarpSetting = {};
    const hooks = new Map<string, string[]>();

    for (const c of this.block(n, undefined)) {
      switch (c.keyword) {
        case 'interface':
          ifname = this.one(c, section, 'an interface name') ?? ifname;
          break;
        case 'virtual_router_id':
          vrid = this.intIn(c, section, 1, 255, 'vrid') ?? vrid;
          break;
        case 'priority':
          priority = this.intIn(c, section, 1, 255, 'priority') ?? priority;
          break;
        case 'version': {
          const v = this.intIn(c, section, 2, 3, 'version');
          if (v === 2 || v === 3) {
            version = v;
            versionLine = c.line;
          }
          break;
        }
        case 'advert_int': {
          const us = this.secondsIn(c, section, 'advert_interval');
          if (us !== undefined) {
            advertUs = us;
            advertLine = c.line;
          }
          break;
        }
        case 'state': {
          const v = this.one(c, section, 'MASTER or BACKUP');
          if (v !== undefined) state = { value: v, line: c.line };
          break;
        }
        case 'nopreempt':
          nopreemptLine = c.line;
          break;
        case 'preempt':
          nopreemptLine = undefined;
          break;
        case 'preempt_delay': {
          const us = this.secondsIn(c, section, 'preempt_delay');
          if (us !== undefined && us > 1000 * 1_000_000) this.warn(c.line, `preempt_delay ${show(c.args[0] ?? '')} is above keepalived's 1000 s: left out`, section, 'preempt_delay');
          else if (us !== undefined) {
            preemptDelayUs = us;
            preemptDelayLine = c.line;
          }
          break;
        }
        case 'virtual_ipaddress':
          vipLine = c.line;
          for (const a of this.block(c, section)) {
            vipRaw.push({ text: a.keyword, options: [...a.args], line: a.line });
            if (a.block) this.warn(a.line, `virtual address ${show(a.keyword)} does not take a { } block: the block is ignored`, section, 'virtual_addresses');
          }
          break;
        case 'unicast_src_ip': {
          const v = this.one(c, section, 'an address');
          if (v !== undefined) unicastSrc = { value: v, line: c.line };
          break;
        }
        case 'unicast_peer':
          for (const p of this.block(c, section)) {
            peerRaw.push({ text: p.keyword, line: p.line });
            if (p.args.length > 0) {
              this.warn(p.line, `unicast peer ${show(p.keyword)}: ${show(p.args.join(' '))} is not supported by redkeep (it accepts adverts only from its peers, with TTL 255): left out`, section, 'unicast_peers');
            }
          }
          break;
        case 'authentication':
          auth = this.authentication(c, section);
          break;
        case 'track_interface':
          for (const t of this.block(c, section)) {
            let w = 0;
            if (t.args.length > 0) {
              if (t.args[0] !== 'weight') {
                this.warn(t.line, `track_interface ${show(t.keyword)}: ignored ${show(t.args.join(' '))}`, section, 'track_interfaces');
              } else {
                const v = this.weight(t, section, t.args.slice(1), 'track_interfaces', `track_interface ${show(t.keyword)} is left out`);
                if (v === undefined || v === 'reverse') continue;
                w = v;
              }
            }
            trackIfs.push({ name: t.keyword, weight: w, line: t.line });
          }
          break;
        case 'track_script':
          for (const t of this.block(c, section)) {
            let w: number | undefined;
            if (t.args.length > 0) {
              if (t.args[0] !== 'weight') {
                this.warn(t.line, `track_script ${show(t.keyword)}: ignored ${show(t.args.join(' '))}`, section, 'tracks');
              } else {
                const v = this.weight(t, section, t.args.slice(1), 'tracks', `track_script ${show(t.keyword)} is left out`);
                if (v === undefined || v === 'reverse') continue;
                w = v;
              }
            }
            this.trackRef(inst, t.keyword, w, t.line);
          }
          break;
        case 'notify_master':
        case 'notify_backup':
        case 'notify_fault':
        case 'notify_stop':
        case 'notify': {
          const key = c.keyword === 'notify' ? 'notify' : c.keyword.slice('notify_'.length);
          const raw = c.args[0];
          if (raw === undefined) {
            this.warn(c.line, `${c.keyword} needs a script: left out`, hooksSection, key);
            break;
          }
          if (c.args.length > 1) {
            this.warn(
              c.line,
              `${c.keyword}: keepalived reads ${show(c.args.slice(1).join(' '))} as the user (and group) to run the script as${c.words[1]?.quoted ? '' : ', because the script is not in quotes'}; redkeep runs hooks as its own user, so it is left out`,
              hooksSection,
              key,
            );
          }
          if (hooks.has(key)) this.warn(c.line, `${c.keyword} is set twice: the last one is used`, hooksSection, key);
          const argv = this.argv(raw, c.line, hooksSection, key, c.keyword);
          if (argv !== undefined) {
            hooks.set(key, argv);
            inst.hookScripts = [...inst.hookScripts.filter((h) => h.keyword !== c.keyword), { keyword: c.keyword, line: c.line, user: c.args[1] }];
          }
          break;
        }
        case 'garp_master_repeat':
          garp.repeat = this.garpCount(c, section) ?? garp.repeat;
          break;
        case 'garp_master_delay':
          garp.delayUs = this.garpSeconds(c, section) ?? garp.delayUs;
          break;
        case 'garp_master_refresh':
          garp.refreshUs = this.garpSeconds(c, section) ?? garp.refreshUs;
          break;
        case 'garp_master_refresh_repeat':
          garp.refreshRepeat = this.garpCount(c, section) ?? garp.refreshRepeat;
          break;
        case 'garp_lower_prio_repeat':
          garp.lowerRepeat = this.garpCount(c, section) ?? garp.lowerRepeat;
          break;
        case 'garp_lower_prio_delay':
          garp.lowerDelayUs = this.garpSeconds(c, section) ?? garp.lowerDelayUs;
          break;
        case 'garp_interval':
          garp.intervalUs = this.garpInterval(c, section) ?? garp.intervalUs;
          break;
        case 'gna_interval':
          garp.gnaIntervalUs = this.garpInterval(c, section) ?? garp.gnaIntervalUs;
          break;
        case 'check_unicast_src':
          // redkeep accepts unicast adverts from its unicast_peers only: what this turns on.
          break;
        default: {
          const reason = INSTANCE_UNSUPPORTED[c.keyword];
          this.warn(c.line, `${c.keyword} is not supported by redkeep: ${reason ?? `${NOT_MAPPED} (in vrrp_instance)`}`, section);
        }
      }
    }

    // Virtual addresses: their family decides the instance's.
    let family: AddressFamily | undefined;
    const vips: { text: string; address: string; line: number; dev: string | undefined; label: string | undefined }[] = [];
    for (const v of vipRaw) {
      const parsed = this.vip(v, section);
      if (!parsed) continue;
      family ??= parsed.family;
      if (parsed.family !== family) {
        this.warn(v.line, `virtual address ${show(v.text)} is ${parsed.family}, the instance is ${family}: keepalived ignores it, and so does this conversion (use an instance per family)`, section, 'virtual_addresses');
        continue;
      }
      if (vips.some((x) => x.address === parsed.address)) {
        this.warn(v.line, `virtual address ${show(v.text)} is listed twice: kept once`, section, 'virtual_addresses');
        continue;
      }
      vips.push({ text: `${parsed.address}/${parsed.prefixLength}`, address: parsed.address, line: v.line, dev: parsed.dev, label: parsed.label });
    }
    inst.family = family ?? 'ipv4';
    if (ifname === undefined) {
      const devs = new Set(vips.map((v) => v.dev));
      const dev = [...devs][0];
      if (devs.size === 1 && dev !== undefined) {
        ifname = dev;
        this.warn(n.line, `vrrp_instance ${show(name)} has no interface: using ${show(dev)}, the dev of its addresses (redkeep sends its adverts there too)`, section, 'interface');
      } else {
        this.warn(n.line, `vrrp_instance ${show(name)} has no interface, which redkeep needs: the instance is left out`, section);
        inst.skip = true;
      }
    }
    inst.interface = ifname;
    const onOtherDev = vips.filter((v) => v.dev !== undefined && v.dev !== ifname);
    for (const v of onOtherDev) {
      this.warn(v.line, `virtual address ${v.text} is on dev ${show(v.dev ?? '')}, but redkeep puts every address on the instance's interface ${show(ifname ?? '')}: the address is left out (give it an instance on that interface)`, section, 'virtual_addresses');
    }
    let addresses = vips.filter((v) => !onOtherDev.includes(v));
    for (const other of this.instances) {
      if (other === inst || other.skip || other.interface !== ifname) continue;
      const taken = addresses.filter((v) => other.addresses.includes(v.address));
      for (const v of taken) this.warn(v.line, `virtual address ${v.text} belongs to instance ${show(other.name)} on ${show(ifname ?? '')} already: left out`, section, 'virtual_addresses');
      addresses = addresses.filter((v) => !taken.includes(v));
    }
    const maxVips = inst.family === 'ipv4' ? 255 : 90;
    if (addresses.length > maxVips) {
      this.warn(vipLine, `${addresses.length} virtual addresses do not fit in one advert; redkeep takes at most ${maxVips} ${inst.family} addresses: the rest are left out`, section, 'virtual_addresses');
      addresses = addresses.slice(0, maxVips);
    }
    if (addresses.length === 0) {
      this.warn(vipLine, `vrrp_instance ${show(name)} has no virtual address redkeep can take: the instance is left out`, section);
      inst.skip = true;
    }
    if (vrid === undefined) {
      this.warn(n.line, `vrrp_instance ${show(name)} has no usable virtual_router_id: the instance is left out`, section);
      inst.skip = true;
    } else {
      const clash = this.instances.find((o) => o !== inst && !o.skip && o.interface === ifname && o.family === inst.family && o.vrid === vrid);
      if (clash) {
        this.warn(n.line, `VRID ${vrid} is already used on ${show(ifname ?? '')} by instance ${show(clash.name)} (keepalived allows it with other peers or multicast groups, redkeep does not): the instance is left out`, section);
        inst.skip = true;
      }
    }

    // Version and interval, as keepalived 2.2.7 settles them.
    let ver: 2 | 3 = version ?? this.globalVersion ?? 2;
    if (inst.family === 'ipv6' && ver === 2) {
      if (version !== undefined) this.warn(versionLine, 'version 2 carries IPv4 only: keepalived runs an IPv6 instance with VRRPv3, and so does this conversion', section, 'version');
      ver = 3;
    }
    let advert = advertUs ?? 1_000_000;
    if (ver === 2) {
      const s = Math.min(255, Math.max(1, Math.round(advert / 1_000_000)));
      if (s * 1_000_000 !== advert) {
        this.warn(advertLine, `advert_int ${advert / 1_000_000} s: VRRPv2 adverts are whole seconds 1..255; keepalived rounds it to ${s} s, and so does this conversion`, section, 'advert_interval');
      }
      advert = s * 1_000_000;
    } else {
      const cs = Math.min(4095, Math.max(1, Math.round(advert / 10_000)));
      if (cs * 10_000 !== advert) {
        this.warn(advertLine, `advert_int ${advert / 1_000_000} s: VRRPv3 adverts are 0.01..40.95 s in steps of 0.01 s; using ${duration(cs * 10_000)}`, section, 'advert_interval');
      }
      advert = cs * 10_000;
    }

    // Priority, state, preemption.
    let prio = priority ?? 100;
    const stateUpper = state?.value.toUpperCase();
    if (state !== undefined) {
      if (stateUpper === 'MASTER' && priority === undefined) {
        prio = 255;
        this.warn(state.line, 'state MASTER without a priority: keepalived gives the instance priority 255 (address owner), and so does this conversion; redkeep has no initial state otherwise, the election decides', section, 'priority');
      } else if (stateUpper === 'MASTER') {
        this.warn(state.line, 'state MASTER is ignored: redkeep has no initial state, the election by priority decides', section);
      } else if (stateUpper === 'BACKUP') {
        this.warn(state.line, 'state BACKUP is ignored: redkeep has no initial state, every instance starts as backup (an address owner, priority 255, excepted) and the election decides', section);
      } else {
        this.warn(state.line, `state ${show(state.value)} is neither MASTER nor BACKUP: ignored`, section);
      }
    }
    inst.priority = prio;
    if (stateUpper === 'MASTER' && prio !== 255) {
      // keepalived 2.2.7: "nopreempt / preempt delay will not work with initial state MASTER - clearing".
      if (nopreemptLine !== undefined) {
        this.warn(nopreemptLine, 'nopreempt with state MASTER: keepalived clears nopreempt, and so does this conversion (preempt stays true); to keep an established master, set preempt = false', section, 'preempt');
        nopreemptLine = undefined;
      }
      if (preemptDelayUs !== undefined) {
        this.warn(preemptDelayLine, 'preempt_delay with state MASTER: keepalived clears it, and so does this conversion (left out)', section, 'preempt_delay');
        preemptDelayUs = undefined;
      }
    }
    let preempt = nopreemptLine === undefined;
    if (!preempt && prio === 255) {
      this.warn(nopreemptLine ?? n.line, 'nopreempt is ignored with priority 255: an address owner always takes over (keepalived resets it too)', section, 'preempt');
      preempt = true;
    }

    const { peers, source } = this.unicast(peerRaw, unicastSrc, inst.family, section);

    const authPass = auth === undefined ? undefined : this.authPass(auth, ver, section);

    const label = this.label(addresses, ifname, inst.family, vipLine, section);

    // Tracked interfaces.
    const tracked: { name: string; weight: number }[] = [];
    for (const t of trackIfs) {
      if (t.name === '') this.warn(t.line, 'track_interface: an empty interface name is left out', section, 'track_interfaces');
      else if (t.name === ifname) this.warn(t.line, `track_interface ${show(t.name)} is the instance's own interface, which redkeep always follows: left out`, section, 'track_interfaces');
      else if (tracked.some((x) => x.name === t.name)) this.warn(t.line, `track_interface ${show(t.name)} is listed twice: the first is kept`, section, 'track_interfaces');
      else tracked.push({ name: t.name, weight: t.weight });
    }

    const garpPairs = this.garp(garp, ifname, inst.family, n.line, section);

    if (inst.skip) return;
    section.set('name', tomlString(name));
    section.set('interface', tomlString(ifname ?? ''));
    section.set('vrid', String(vrid));
    section.set('priority', String(prio));
    section.set('version', String(ver));
    section.set('advert_interval', tomlString(duration(advert)));
    if (!preempt) section.set('preempt', 'false');
    if (preemptDelayUs !== undefined) section.set('preempt_delay', tomlString(duration(preemptDelayUs)));
    section.set('virtual_addresses', tomlArray(addresses.map((v) => tomlString(v.text))));
    if (label !== undefined) section.set('address_label', tomlString(label));
    if (source !== undefined) section.set('unicast_source', tomlString(source));
    if (peers.length > 0) section.set('unicast_peers', tomlArray(peers.map(tomlString)));
    if (authPass !== undefined) section.set('auth_pass', tomlString(authPass));
    if (garpPairs.length > 0) section.set('garp', tomlInline(garpPairs));
    if (tracked.length > 0) section.set('track_interfaces', tomlArray(tracked.map((t) => tomlInline([['name', tomlString(t.name)], ['weight', String(t.weight)]]))));
    for (const key of ['master', 'backup', 'fault', 'stop', 'notify']) {
      const argv = hooks.get(key);
      if (argv) hooksSection.set(key, tomlArray(argv.map(tomlString)));
    }
    inst.addresses = addresses.map((v) => v.address);
    inst.vrid = vrid;
    inst.unicast = peers.length > 0;
  }

  /** unicast_peer and unicast_src_ip, checked as redkeep will. */
  private unicast(
    peerRaw: readonly { text: string; line: number }[],
    unicastSrc: { value: string; line: number } | undefined,
    family: AddressFamily,
    section: Section,
  ): { peers: string[]; source: string | undefined } {
    const peers: string[] = [];
    for (const p of peerRaw) {
      const canon = canonicalAddress(p.text);
      const fam = addressFamilyOf(p.text);
      if (canon === undefined || fam === undefined) this.warn(p.line, `unicast peer ${show(p.text)} is not an IP address: left out`, section, 'unicast_peers');
      else if (fam !== family) this.warn(p.line, `unicast peer ${show(p.text)} is ${fam}, the instance is ${family}: left out`, section, 'unicast_peers');
      else if (!isUnicastAddress(canon)) this.warn(p.line, `unicast peer ${show(p.text)} is not a unicast address: left out`, section, 'unicast_peers');
      else if (peers.includes(canon)) this.warn(p.line, `unicast peer ${show(p.text)} is listed twice: kept once`, section, 'unicast_peers');
      else peers.push(canon);
    }
    let source: string | undefined;
    if (unicastSrc !== undefined) {
      const canon = canonicalAddress(unicastSrc.value);
      const fam = addressFamilyOf(unicastSrc.value);
      if (canon === undefined || fam === undefined) this.warn(unicastSrc.line, `unicast_src_ip ${show(unicastSrc.value)} is not an IP address: left out`, section, 'unicast_source');
      else if (fam !== family) this.warn(unicastSrc.line, `unicast_src_ip ${show(unicastSrc.value)} is ${fam}, the instance is ${family}: left out`, section, 'unicast_source');
      else if (peers.length === 0) this.warn(unicastSrc.line, 'unicast_src_ip without a unicast peer: keepalived 2.2.7 then sends multicast (from that address); redkeep sends multicast from the interface address, so unicast_src_ip is left out', section, 'unicast_source');
      else source = canon;
    }
    return { peers, source };
  }

  /** The auth_pass redkeep sends: VRRPv2 PASS only, keepalived's first 8 bytes. Never in a message. */
  private authPass(auth: { type: string | undefined; pass: string | undefined; line: number; passLine: number }, version: 2 | 3, section: Section): string | undefined {
    const type = auth.type?.toUpperCase();
    if (type === undefined) {
      if (auth.pass !== undefined) this.warn(auth.line, 'authentication has an auth_pass but no auth_type: keepalived sends no authentication, and neither will redkeep', section, 'auth_pass');
    } else if (type === 'AH') {
      this.warn(auth.line, 'auth_type AH is not supported by redkeep (only PASS): authentication is left out, and peers that use AH will not accept redkeep adverts', section, 'auth_pass');
    } else if (type !== 'PASS') {
      this.warn(auth.line, `auth_type ${show(auth.type ?? '')} is not PASS or AH: authentication is left out`, section, 'auth_pass');
    } else if (auth.pass === undefined) {
      this.warn(auth.line, 'auth_type PASS without an auth_pass: authentication is left out', section, 'auth_pass');
    } else if (version === 3) {
      this.warn(auth.line, 'authentication is ignored: VRRPv3 has none (RFC 5798 removed it) and keepalived ignores it too', section, 'auth_pass');
    } else {
      const pass = firstBytes(auth.pass, 8);
      if (pass !== auth.pass) this.warn(auth.passLine, 'auth_pass is longer than 8 bytes: keepalived uses only the first 8, and so does this conversion', section, 'auth_pass');
      if (pass !== '') return pass;
      this.warn(auth.passLine, 'auth_pass is empty: authentication is left out', section, 'auth_pass');
    }
    return undefined;
  }

  /** address_label: keepalived's label when every address has the same one. */
  private label(addresses: readonly { line: number; label: string | undefined }[], ifname: string | undefined, family: AddressFamily, vipLine: number, section: Section): string | undefined {
    const labels = new Set(addresses.map((v) => v.label));
    const first = addresses[0];
    if (labels.size > 1) {
      this.warn(vipLine, `the addresses have different labels (${[...labels].map((l) => (l === undefined ? 'none' : show(l))).join(', ')}); redkeep takes one address_label for all: left out`, section, 'address_label');
      return undefined;
    }
    const l = first?.label;
    if (first === undefined || l === undefined) return undefined;
    if (family === 'ipv6') this.warn(first.line, `label ${show(l)}: IPv6 addresses have no label; left out`, section, 'address_label');
    else if (ifname !== undefined && !l.startsWith(ifname)) this.warn(first.line, `label ${show(l)} does not start with the interface name ${show(ifname)}, as redkeep requires: left out`, section, 'address_label');
    else if (l.length > 15) this.warn(first.line, `label ${show(l)} is longer than 15 characters: left out`, section, 'address_label');
    else return l;
    return undefined;
  }

  /** Gratuitous ARP / NA: what keepalived would use, as the keys that differ from redkeep's defaults. */
  private garp(garp: GarpSetting, ifname: string | undefined, family: AddressFamily, line: number, section: Section): [string, string][] {
    const g = this.globalGarp;
    const group = (ifname !== undefined ? this.groupGarp.get(ifname) : undefined) ?? {};
    const delayUs = garp.delayUs ?? g.delayUs ?? (this.minGarp ? 0 : 5_000_000);
    // keepalived: the lower-priority settings default to the global master ones, not the instance's.
    const lowerRepeat = garp.lowerRepeat ?? g.lowerRepeat ?? g.repeat ?? (this.minGarp ? 1 : 5);
    const lowerDelayUs = garp.lowerDelayUs ?? g.lowerDelayUs ?? g.delayUs ?? (this.minGarp ? 0 : 5_000_000);
    const effective = {
      repeat: garp.repeat ?? g.repeat ?? (this.minGarp ? 1 : 5),
      delayUs,
      refreshUs: garp.refreshUs ?? g.refreshUs ?? 0,
      refreshRepeat: garp.refreshRepeat ?? g.refreshRepeat ?? 1,
      lowerRepeat,
      intervalUs: family === 'ipv4' ? (garp.intervalUs ?? group.intervalUs ?? g.intervalUs ?? 0) : (garp.gnaIntervalUs ?? group.gnaIntervalUs ?? g.gnaIntervalUs ?? 0),
    };
    if (lowerDelayUs !== delayUs && lowerRepeat > 0) {
      this.warn(line, `the lower-priority gratuitous ARP delay (${duration(lowerDelayUs)}) differs from garp_master_delay (${duration(delayUs)}): redkeep uses ${duration(delayUs)} for both`, section, 'garp');
    }
    const d = REDKEEP_GARP_DEFAULTS;
    const pairs: [string, string][] = [];
    if (effective.repeat !== d.repeat) pairs.push(['repeat', String(effective.repeat)]);
    if (effective.delayUs !== d.delayUs) pairs.push(['delay', tomlString(duration(effective.delayUs))]);
    if (effective.refreshUs !== d.refreshUs) pairs.push(['refresh', tomlString(duration(effective.refreshUs))]);
    if (effective.refreshRepeat !== d.refreshRepeat) pairs.push(['refresh_repeat', String(effective.refreshRepeat)]);
    if (effective.lowerRepeat !== d.lowerRepeat) pairs.push(['lower_prio_repeat', String(effective.lowerRepeat)]);
    if (effective.intervalUs !== d.intervalUs) pairs.push(['interval', tomlString(duration(effective.intervalUs))]);
    return pairs;
  }

  /** One line of virtual_ipaddress: the address, then options. */
  private vip(v: { text: string; options: string[]; line: number }, section: Section): { family: AddressFamily; address: string; prefixLength: number; dev: string | undefined; label: string | undefined } | undefined {
    const c = parseCidr(v.text);
    if (!c) {
      this.warn(v.line, `virtual address ${show(v.text)} is not an address with an optional /prefix: left out`, section, 'virtual_addresses');
      return undefined;
    }
    let dev: string | undefined;
    let label: string | undefined;
    const ignored: string[] = [];
    const withValue = new Set(['brd', 'broadcast', 'dev', 'scope', 'label', 'peer', 'preferred_lft', 'track_group']);
    for (let i = 0; i < v.options.length; i++) {
      const o = v.options[i] ?? '';
      const value = withValue.has(o) ? v.options[++i] : undefined;
      if (withValue.has(o) && value === undefined) {
        ignored.push(o);
        continue;
      }
      if (o === 'dev') dev = value;
      else if (o === 'label') label = value;
      else if (o === 'scope' && value === 'global') continue;
      else ignored.push(value !== undefined ? `${o} ${value}` : o);
    }
    if (ignored.length > 0) {
      this.warn(v.line, `virtual address ${show(v.text)}: ${ignored.map(show).join(', ')} ${ignored.length === 1 ? 'is' : 'are'} not supported by redkeep: left out`, section, 'virtual_addresses');
    }
    return { family: c.family, address: c.address, prefixLength: c.prefixLength, dev, label };
  }

  private authentication(n: KeepalivedNode, section: Section): { type: string | undefined; pass: string | undefined; line: number; passLine: number } {
    let type: string | undefined;
    let pass: string | undefined;
    let passLine = n.line;
    // Nothing of this block is ever repeated in a warning but its keywords: a misplaced password must not leak.
    for (const c of this.block(n, section)) {
      if (c.keyword === 'auth_type') {
        type = c.args[0];
        if (type === undefined) this.warn(c.line, 'auth_type needs PASS or AH', section, 'auth_pass');
      } else if (c.keyword === 'auth_pass') {
        pass = c.args[0];
        passLine = c.line;
        if (pass === undefined) this.warn(c.line, 'auth_pass has no value', section, 'auth_pass');
        else if (c.args.length > 1) this.warn(c.line, 'auth_pass has more than one word (quote it if it has spaces): only the first is used', section, 'auth_pass');
      } else {
        const kw = /^[a-z_]{1,40}$/.test(c.keyword) && c.args.length === 0 ? c.keyword : 'a line';
        this.warn(c.line, `${kw === 'a line' ? 'a line' : kw} in authentication is not supported by redkeep: left out`, section, 'auth_pass');
      }
    }
    return { type, pass, line: n.line, passLine };
  }

  private trackRef(inst: InstanceDef, name: string, weight: number | undefined, line: number): void {
    const def = this.scripts.get(name);
    if (!def) {
      this.warn(line, `track_script ${show(name)}: there is no vrrp_script of that name (keepalived ignores it too): left out`, inst.section, 'tracks');
      return;
    }
    if (def.skip) {
      this.warn(line, `track_script ${show(name)}: that vrrp_script is not converted (see line ${def.line}): left out`, inst.section, 'tracks');
      return;
    }
    if (inst.refs.some((r) => r.name === def.name)) {
      this.warn(line, `track_script ${show(name)} is listed twice: the first is kept`, inst.section, 'tracks');
      return;
    }
    inst.refs.push({ name: def.name, weight });
  }

  // -- Redis ------------------------------------------------------------------------------------

  /**
   * A PING script becomes a redis-ping track when every instance that tracks it can look after
   * that Redis ([instance.redis] address); otherwise it stays an exec track.
   */
  private resolveRedis(): void {
    const live = this.instances.filter((i) => !i.skip);
    for (const i of live) for (const r of i.refs) {
      const s = [...this.scripts.values()].find((x) => x.name === r.name);
      if (s) s.referenced = true;
    }
    for (const s of this.scripts.values()) if (!s.referenced) s.ping = undefined;
    for (let round = 0; round < 100; round++) {
      for (const i of live) i.redis = undefined;
      let demoted = false;
      for (const i of live) {
        for (const r of i.refs) {
          const s = [...this.scripts.values()].find((x) => x.name === r.name);
          if (s?.ping === undefined) continue;
          if (i.redis === undefined) i.redis = s.ping;
          else if (i.redis !== s.ping) {
            this.warn(s.line, `vrrp_script ${show(s.name)} PINGs ${s.ping}, but instance ${show(i.name)} looks after the Redis at ${i.redis} (from another script): kept as an exec track`, s.section, 'type');
            s.ping = undefined;
            demoted = true;
          }
        }
      }
      if (!demoted) break;
    }
  }

  // -- Advice ------------------------------------------------------------------------------------

  /** Whether keepalived ran a script as root: its own user, else script_user, else root (keepalived_script if that user exists). */
  private asRoot(user: string | undefined): string | undefined {
    const u = user ?? this.scriptUser;
    if (u === undefined) return 'as root (its default without script_user, unless a keepalived_script user exists)';
    return u === 'root' || u === '0' ? 'as root' : undefined;
  }

  /**
   * What changes for scripts and Redis when keepalived gives way to redkeep: scripts keepalived
   * ran as root now run as the unprivileged redkeep user, and a Redis check could have the data
   * guards that role control brings.
   */
  private advise(): void {
    const unprivileged = 'redkeep runs hooks and exec tracks as the unprivileged user redkeep (systemd unit, no sudo)';
    for (const s of this.scripts.values()) {
      const root = this.asRoot(s.user);
      if (s.skip || !s.referenced || s.ping !== undefined || root === undefined) continue;
      this.warn(s.line, `vrrp_script ${show(s.name)}: keepalived ran this script ${root}; ${unprivileged}: a script that needs root must change`, s.section, 'command');
    }
    for (const i of this.instances) {
      if (i.skip) continue;
      const rootHooks = i.hookScripts.filter((h) => this.asRoot(h.user) !== undefined).sort((a, b) => a.line - b.line);
      const first = rootHooks[0];
      if (first !== undefined) {
        const names = rootHooks.map((h) => h.keyword);
        const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
        const one = names.length === 1;
        const how = rootHooks.some((h) => h.user === undefined) ? this.asRoot(undefined) : 'as root';
        this.warn(first.line, `${list}: keepalived ran ${one ? 'this script' : 'these scripts'} ${how}; ${unprivileged}: ${one ? 'a script that needs' : 'scripts that need'} root must change`, i.hooksSection);
      }
      if (i.redis === undefined) continue;
      const ping = i.refs.map((r) => [...this.scripts.values()].find((x) => x.name === r.name)).find((x) => x?.ping === i.redis);
      this.warn(
        ping?.line ?? i.line,
        `turn manage_role on to get redkeep's data guards (it is written false because keepalived never changed Redis roles)${i.unicast ? '' : '; in multicast mode, list the hosts in members too'}`,
        i.redisSection,
        'manage_role',
      );
    }
  }

  // -- Output -----------------------------------------------------------------------------------

  private render(): string {
    const out: string[] = [
      comment(`redkeep configuration generated by \`redkeep import-keepalived\` from ${this.file}${this.options.configId !== undefined ? ` for config id ${this.options.configId}` : ''}.`),
      '# Lines starting with "# CHECK" name keepalived settings that redkeep takes differently or not at',
      '# all: read them before using this file. Check it with: redkeep check-config FILE',
    ];
    // Warnings that belong to no table written: the file's own, and those of what is left out.
    const top = [...this.log.top];
    for (const sc of this.scripts.values()) if (sc.skip) top.push(...sc.section.notes());
    for (const i of this.instances) if (i.skip) top.push(...i.section.notes(), ...i.redisSection.notes(), ...i.hooksSection.notes());
    if (top.length > 0) out.push('#', ...byLine(top));
    if (this.routerId !== undefined) {
      const agent = new Section('[agent]');
      agent.set('name', tomlString(this.routerId));
      out.push('', ...agent.render().map((l, idx) => (idx === 1 ? `${l}   # keepalived router_id, line ${this.routerIdLine}` : l)));
    }
    for (const s of this.scripts.values()) {
      if (s.skip) continue;
      const t = s.section;
      t.note(`from vrrp_script ${s.name === '' ? '""' : s.name} (line ${s.line})`);
      if (!s.referenced) t.note('no vrrp_instance tracks this script: keepalived does not run it, and no redkeep instance will');
      t.set('name', tomlString(s.name));
      if (s.ping !== undefined) {
        t.note(`a redis-cli PING: redkeep PINGs the Redis of each instance that tracks it ([instance.redis] address = ${s.ping})`, 'type');
        t.set('type', tomlString('redis-ping'));
      } else {
        t.set('type', tomlString('exec'));
        t.set('command', tomlArray(s.command.map(tomlString)));
      }
      t.set('interval', tomlString(duration(s.intervalUs)));
      // keepalived's default timeout is the interval; redkeep's is at most 1 s: always written.
      t.set('timeout', tomlString(duration(Math.min(60_000_000, Math.max(1000, s.timeoutUs ?? s.intervalUs)))));
      if (s.rise !== undefined) t.set('rise', String(s.rise));
      if (s.fall !== undefined) t.set('fall', String(s.fall));
      if (s.weight !== undefined) t.set('weight', String(s.weight));
      out.push('', ...t.render());
    }
    for (const i of this.instances) {
      if (i.skip) continue;
      if (i.refs.length > 0) {
        i.section.set('tracks', tomlArray(i.refs.map((r) => (r.weight === undefined ? tomlString(r.name) : tomlInline([['name', tomlString(r.name)], ['weight', String(r.weight)]])))));
      }
      out.push('', ...i.section.render());
      if (i.redis !== undefined) {
        const r = i.redisSection;
        r.note('keepalived never changed Redis roles, and manage_role = false keeps it so. With manage_role = true, redkeep');
        r.note('makes the master a Redis master and the backups its replicas (REPLICAOF) on every change, and');
        r.note('guards against stale data: then remove notify scripts that run REPLICAOF / SLAVEOF themselves.');
        r.set('address', tomlString(i.redis));
        r.set('manage_role', 'false');
        if (i.priority === 255) {
          r.note('an address owner (priority 255) cannot use the data guard: it is turned off', 'isolation_timeout');
          r.set('isolation_timeout', tomlString('0s'));
          r.set('max_link_down', tomlString('0s'));
          r.set('max_lag', '0');
        }
        out.push('', ...r.render());
      }
      const h = i.hooksSection.render();
      if (h.length > 1) out.push('', ...h);
    }
    return `${out.join('\n')}\n`;
  }
}

function isUnicastAddress(address: string): boolean {
  if (address === '0.0.0.0' || address === '255.255.255.255' || address === '::') return false;
  if (addressFamilyOf(address) === 'ipv4') return Number(address.split('.')[0]) < 224;
  return !address.startsWith('ff');
}

/** The longest prefix of whole characters that fits in `n` UTF-8 bytes (keepalived keeps 8 bytes). */
function firstBytes(s: string, n: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > n) break;
    out += ch;
    bytes += b;
  }
  return out;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'ksh', 'zsh']);
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/**
 * host:port when a script is plainly `redis-cli [-h HOST] [-p PORT] ping`, possibly with
 * `| grep -q PONG`, possibly inside `sh -c '...'`; undefined for anything else.
 */
export function redisPingTarget(script: string): string | undefined {
  let words = splitScript(script).argv;
  const first = words[0];
  if (first !== undefined && SHELLS.has(basename(first)) && words[1] === '-c' && words.length === 3) {
    words = splitScript(words[2] ?? '').argv;
  }
  const pipe = words.indexOf('|');
  if (pipe >= 0) {
    const tail = words.slice(pipe + 1);
    const pattern = tail[tail.length - 1] ?? '';
    const flags = tail.slice(1, -1);
    if (tail[0] !== 'grep' || !/^\^?PONG\$?$/.test(pattern) || !flags.every((f) => /^-[qxwFs]+$/.test(f))) return undefined;
    words = words.slice(0, pipe);
  }
  if (basename(words[0] ?? '') !== 'redis-cli' || (words[words.length - 1] ?? '').toLowerCase() !== 'ping') return undefined;
  let host = '127.0.0.1';
  let port = 6379;
  const opts = words.slice(1, -1);
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    const v = opts[i + 1];
    if (o === '-h' && v !== undefined) {
      const h = v === 'localhost' ? '127.0.0.1' : canonicalAddress(v);
      if (h === undefined) return undefined;
      host = h;
      i++;
    } else if (o === '-p' && v !== undefined) {
      const p = int(v);
      if (p === undefined || p < 1 || p > 65535) return undefined;
      port = p;
      i++;
    } else if ((o === '-n' || o === '-t') && v !== undefined && /^\d+(\.\d+)?$/.test(v)) i++;
    else if (o !== '--no-auth-warning' && o !== '--raw' && o !== '--no-raw') return undefined;
  }
  return hostPortText(host, port);
}

/**
 * Converts keepalived.conf text into redkeep TOML. `file` names the source in the TOML header;
 * `options.configId` selects the `@id` conditional lines of one host.
 * Throws KeepalivedImportError only when no vrrp_instance can be converted; never anything else.
 */
export function convertKeepalived(text: string, file: string, options: ParseOptions = {}): KeepalivedConversion {
  return new Converter(file, options).run(text);
}
