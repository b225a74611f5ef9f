// User hooks on transitions, run after redkeep's own actions. Per instance they are serialized in
// transition order: a later transition's hooks wait for the earlier ones to finish or time out.
// argv arrays, no shell; the process group is killed on timeout; exit status and stderr are
// logged. notify gets keepalived's arguments (INSTANCE, name, state, priority) so existing
// keepalived notify scripts work unchanged; client_reconfig gets Sentinel's client-reconfig-script
// arguments (name, role, state, from-ip, from-port, to-ip, to-port) so existing Sentinel scripts
// do. Only configuration and our own state reach argv and the environment: the masters named are
// routers the VRRP core accepted (with members or unicast_peers configured, only those), as
// canonical IP text, and the configured peer_port.

import { spawn } from 'node:child_process';
import { hostPortText } from '@redkeep/vrrp';
import { childEnv } from '../child-env.js';
import type { Logger } from '../log.js';

export type HookState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

export interface HookSettings {
  readonly master?: readonly string[] | undefined;
  readonly backup?: readonly string[] | undefined;
  readonly fault?: readonly string[] | undefined;
  readonly stop?: readonly string[] | undefined;
  readonly notify?: readonly string[] | undefined;
  readonly clientReconfig?: readonly string[] | undefined;
  readonly timeoutMs: number;
}

/** A Redis master as hooks see it: an address and a port. */
export interface MasterEndpoint {
  readonly ip: string;
  readonly port: number;
}

export interface HookContext {
  readonly state: HookState;
  readonly previous: HookState | 'INIT';
  readonly priority: number;
  readonly vips: readonly string[];
  readonly redisAddress: string | undefined;
  /** The master before this transition and after it (REDKEEP_OLD_MASTER, REDKEEP_NEW_MASTER). */
  readonly oldMaster: MasterEndpoint | undefined;
  readonly newMaster: MasterEndpoint | undefined;
}

function hostPort(m: MasterEndpoint | undefined): string {
  return m ? hostPortText(m.ip, m.port) : '';
}

export interface HookRun {
  readonly hook: string;
  readonly state: HookState;
  readonly outcome: string;
  readonly ok: boolean;
}

const STDERR_LIMIT = 4096;

export class HookRunner {
  private chain: Promise<void> = Promise.resolve();
  runs = 0;
  failures = 0;
  readonly history: HookRun[] = [];

  /** `settings` undefined: no hooks (until a reload gives some, see update). */
  constructor(
    private readonly instance: string,
    private settings: HookSettings | undefined,
    private readonly log: Logger,
  ) {}

  /** Whether any hook is configured. */
  get configured(): boolean {
    return this.settings !== undefined;
  }

  /**
   * A reload changed the hooks: transitions from now on run the new ones. Hooks already queued
   * run as they were queued (with the timeout they were queued with).
   */
  update(settings: HookSettings | undefined): void {
    this.settings = settings;
  }

  /** Queues the hooks of one transition; resolves when they (and all before them) are done. */
  transition(ctx: HookContext): Promise<void> {
    const s = this.settings;
    if (!s) return this.chain;
    const specific = { MASTER: s.master, BACKUP: s.backup, FAULT: s.fault, STOP: s.stop }[ctx.state];
    const jobs: [string, readonly string[]][] = [];
    if (specific && specific.length > 0) jobs.push([ctx.state.toLowerCase(), specific]);
    const notify = s.notify;
    if (notify && notify.length > 0) jobs.push(['notify', [...notify, 'INSTANCE', this.instance, ctx.state, String(ctx.priority)]]);
    for (const [name, argv] of jobs) {
      this.chain = this.chain.then(() => this.run(name, argv, ctx, s.timeoutMs));
    }
    return this.chain;
  }

  /**
   * The master changed from `from` to `to` (client_reconfig, as Sentinel's client-reconfig-script:
   * role "leader" on the host that took over, "observer" on the others; state "failover").
   */
  masterChanged(ctx: HookContext & { readonly oldMaster: MasterEndpoint; readonly newMaster: MasterEndpoint }): Promise<void> {
    const s = this.settings;
    const script = s?.clientReconfig;
    if (!s || !script || script.length === 0) return this.chain;
    const role = ctx.state === 'MASTER' ? 'leader' : 'observer';
    const argv = [...script, this.instance, role, 'failover', ctx.oldMaster.ip, String(ctx.oldMaster.port), ctx.newMaster.ip, String(ctx.newMaster.port)];
    this.chain = this.chain.then(() => this.run('client_reconfig', argv, ctx, s.timeoutMs));
    return this.chain;
  }

  /** Resolves when every queued hook has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  private run(hook: string, argv: readonly string[], ctx: HookContext, timeoutMs: number): Promise<void> {
    const [cmd, ...args] = argv;
    if (!cmd) return Promise.resolve();
    const env = childEnv({
      REDKEEP_INSTANCE: this.instance,
      REDKEEP_STATE: ctx.state,
      REDKEEP_PREVIOUS_STATE: ctx.previous,
      REDKEEP_PRIORITY: String(ctx.priority),
      REDKEEP_VIPS: ctx.vips.join(','),
      REDKEEP_REDIS_ADDRESS: ctx.redisAddress ?? '',
      REDKEEP_OLD_MASTER: hostPort(ctx.oldMaster),
      REDKEEP_NEW_MASTER: hostPort(ctx.newMaster),
    });
    this.runs++;
    return new Promise((resolve) => {
      let stderr = '';
      let done = false;
      const finish = (ok: boolean, outcome: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (!ok) this.failures++;
        this.history.push({ hook, state: ctx.state, outcome, ok });
        const meta = { event: 'hook', instance: this.instance, hook, state: ctx.state, outcome, ...(stderr ? { stderr: stderr.trim() } : {}) };
        if (ok) this.log.info('hook done', meta);
        else this.log.warn('hook failed', meta);
        resolve();
      };
      const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env });
      child.stderr?.on('data', (d: Buffer) => {
        if (stderr.length < STDERR_LIMIT) stderr += d.toString().slice(0, STDERR_LIMIT - stderr.length);
      });
      const timer = setTimeout(() => {
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        finish(false, `timeout after ${timeoutMs} ms, process group killed`);
      }, timeoutMs);
      child.once('error', (e: NodeJS.ErrnoException) => finish(false, `cannot start: ${e.code ?? e.message}`));
      child.once('close', (code, signal) => finish(code === 0, code !== null ? `exit ${code}` : `signal ${signal ?? '?'}`));
    });
  }
}
