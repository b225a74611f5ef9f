// A machine with a real systemd as PID 1, for tests of the Debian package and the unit: a lab host's
// network namespace with a throw-away root (scripts/systemd-box.sh). Its processes see the lab
// host's eth0 and addresses, so Redis and clients started in the lab reach what runs in the box.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from './lab.js';

const BOX_SCRIPT = fileURLToPath(new URL('../../systemd-box.sh', import.meta.url));

export interface BoxResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const live = new Set<SystemdBox>();
let hooked = false;

export class SystemdBox {
  private stopped = false;

  private constructor(
    readonly name: string,
    readonly host: string,
    private readonly dir: string,
  ) {}

  /** Boots a box in the lab host's network namespace; waits until systemd has reached its target. */
  static start(lab: Lab, host: string, name = `box-${host}`): SystemdBox {
    const dir = join(mkdtempSync(join(tmpdir(), 'redkeep-box-')), 'box');
    const r = spawnSync('bash', [BOX_SCRIPT, 'start', dir, name, lab.host(host).ns], { encoding: 'utf8' });
    const box = new SystemdBox(name, host, dir);
    if (r.status !== 0) {
      box.stop();
      throw new Error(`systemd box ${name} did not start: ${r.stderr}${r.stdout}`);
    }
    if (!hooked) {
      hooked = true;
      process.on('exit', () => {
        for (const b of live) b.stop();
      });
    }
    live.add(box);
    return box;
  }

  /** Runs a command inside the box (as root, at its /). */
  exec(argv: readonly string[], input?: string | Buffer): BoxResult {
    const r = spawnSync('bash', [BOX_SCRIPT, 'exec', this.dir, ...argv], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Like exec, throwing when the command fails; its stdout. */
  run(argv: readonly string[], input?: string | Buffer): string {
    const r = this.exec(argv, input);
    if (r.status !== 0) throw new Error(`${this.name}: ${argv.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Writes a file inside the box (the box's /tmp is its own: files are copied, not shared). */
  write(path: string, content: string | Buffer, mode = '0644'): void {
    this.run(['sh', '-c', `cat > "$1" && chmod ${mode} "$1"`, 'write', path], content);
  }

  /** Copies a file of this machine into the box. */
  copyIn(hostPath: string, boxPath: string): void {
    this.write(boxPath, readFileSync(hostPath));
  }

  /** `systemctl show` properties of a unit. */
  show(unit: string, props: readonly string[]): Record<string, string> {
    const out = this.run(['systemctl', 'show', unit, ...props.map((p) => `--property=${p}`)]);
    const m: Record<string, string> = {};
    for (const line of out.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) m[line.slice(0, i)] = line.slice(i + 1);
    }
    return m;
  }

  /** The journal of a unit (`journalctl -u UNIT ARGS`), flushed first. */
  journal(unit: string, args: readonly string[] = []): string {
    this.exec(['journalctl', '--sync']);
    return this.run(['journalctl', '--no-pager', '-u', unit, ...args]);
  }

  /** Kills the box (every process in it) and removes its root. Safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    spawnSync('bash', [BOX_SCRIPT, 'stop', this.dir], { stdio: 'ignore' });
  }
}
