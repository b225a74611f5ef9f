// The Debian package under a real systemd: three lab hosts, each a box with systemd as PID 1
// (scripts/systemd-box.sh) and a real Redis, the package installed with dpkg -i, the agent run by
// the unit it ships. Shown here: the install (user, conffile, man pages, completion, the agent
// not started on the example config), the service as user redkeep with two capabilities under the
// sandbox, READY and STATUS, journald priorities and fields, reload (a bad file fails and the old
// configuration stays), the watchdog, a configuration error that does not loop, the upgrade and
// `systemctl stop` handing over with no acknowledged write lost, and removal leaving no VIP.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type Ack, type BoxResult, CLUSTER_VIP, Lab, RedisProc, RunDir, SystemdBox, Writer, holders, lostWrites, sleep, waitFor } from '@redkeep/scripts/lab';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const HOSTS = ['h1', 'h2', 'h3'] as const;
const PRIORITY: Record<string, number> = { h1: 130, h2: 120, h3: 110 };
const UNIT = 'redkeep.service';
const CONFIG = '/etc/redkeep/redkeep.toml';
/** Effective, permitted and bounding capability sets: CAP_NET_ADMIN (12) and CAP_NET_RAW (13). */
const TWO_CAPS = '0000000000003000';

describe('the Debian package under a real systemd (three boxes, real Redis)', () => {
  let lab: Lab;
  let run: RunDir;
  let pkgDir: string;
  let version: string;
  let newer: string;
  const boxes = new Map<string, SystemdBox>();
  const redis = new Map<string, RedisProc>();
  const box = (h: string): SystemdBox => {
    const b = boxes.get(h);
    assert.ok(b, `no box on ${h}`);
    return b;
  };
  const r = (h: string): RedisProc => {
    const x = redis.get(h);
    assert.ok(x);
    return x;
  };
  const members = (): string => HOSTS.map((h) => `"${lab.host(h).address}"`).join(', ');
  const config = (h: string, more = ''): string =>
    [
      '[agent]',
      `name = "${h}"`,
      'log_level = "info"',
      '',
      '[[track]]',
      'name = "redis-alive"',
      'type = "redis-ping"',
      // Patient with Redis: this test is about systemd, and a loaded machine must not fail a PING.
      'interval = "200ms"',
      'timeout = "1s"',
      more,
      '',
      '[[instance]]',
      'name = "redis-write"',
      'interface = "eth0"',
      'vrid = 51',
      `priority = ${PRIORITY[h]}`,
      'advert_interval = "100ms"',
      `virtual_addresses = ["${CLUSTER_VIP}/24"]`,
      `members = [${members()}]`,
      `tracks = ["redis-alive"${more.includes('name = "probe"') ? ', "probe"' : ''}]`,
      '',
      '[instance.redis]',
      'address = "127.0.0.1:6379"',
      '',
    ].join('\n');
  const show = (h: string, ...props: string[]): Record<string, string> => box(h).show(UNIT, props);
  const state = (h: string): string => show(h, 'StatusText').StatusText ?? '';
  const lostOn = (h: string, acks: readonly Ack[]): number[] => lostWrites(r(h), acks).map((a) => a.n);
  /** The VIP on `master` alone, its Redis master, the others replicating from it. */
  const settledQuietly = async (master: string, timeoutMs: number): Promise<void> => {
    await waitFor(`${master} to hold the VIP alone`, timeoutMs, () => holders(lab, CLUSTER_VIP).join() === master, 20);
    await waitFor(`${master}'s Redis to be master`, timeoutMs, () => r(master).info('replication').role === 'master', 20);
    for (const o of HOSTS.filter((x) => x !== master && box(x).show(UNIT, ['ActiveState']).ActiveState === 'active')) {
      await waitFor(`${o}'s Redis to replicate from ${master}`, timeoutMs, () => {
        const i = r(o).info('replication');
        return i.role === 'slave' && i.master_host === lab.host(master).address && i.master_link_status === 'up' && i.master_sync_in_progress === '0';
      }, 20);
    }
  };

  /** settledQuietly, and when it does not come: who holds what, and each agent's last log lines. */
  const settled = async (master: string, timeoutMs = 15_000): Promise<void> => {
    try {
      await settledQuietly(master, timeoutMs);
    } catch (e) {
      const seen = HOSTS.map((h) => `${h}: ${box(h).show(UNIT, ['ActiveState', 'StatusText']).StatusText ?? ''}; redis ${r(h).info('replication').role}\n${box(h).exec(['journalctl', '--no-pager', '-u', UNIT, '-n', '25']).stdout}`);
      throw new Error(`${e instanceof Error ? e.message : String(e)}; VIP on ${holders(lab, CLUSTER_VIP).join(', ') || 'nobody'}\n${seen.join('\n')}`);
    }
  };

  before(async () => {
    pkgDir = mkdtempSync(join(tmpdir(), 'redkeep-pkg-'));
    version = JSON.parse(spawnSync('node', ['-p', 'JSON.stringify(require("./agent/package.json").version)'], { cwd: REPO, encoding: 'utf8' }).stdout) as string;
    newer = `${version}+upgrade1`;
    for (const v of [version, newer]) {
      const p = spawnSync('bash', [join(REPO, 'scripts', 'package.sh'), '--version', v, '--out', pkgDir], { cwd: REPO, encoding: 'utf8' });
      assert.equal(p.status, 0, p.stderr + p.stdout);
    }
    lab = Lab.create({ hosts: 3, ipv6: false });
    run = new RunDir();
    for (const h of HOSTS) {
      redis.set(h, new RedisProc(lab, h, run).start());
      boxes.set(h, SystemdBox.start(lab, h));
    }
  });

  after(() => {
    for (const b of boxes.values()) b.stop();
    lab?.destroy();
    run?.remove();
    if (pkgDir) rmSync(pkgDir, { recursive: true, force: true });
  });

  it('installs: the user, the unit enabled but not started on the example config, conffile, man pages, completion', () => {
    for (const h of HOSTS) {
      // A host without Node.js: the package brings its own.
      box(h).run(['sh', '-c', 'rm -f "$(command -v node)" /usr/local/bin/node; ! command -v node']);
      box(h).copyIn(join(pkgDir, `redkeep_${version}_amd64.deb`), '/root/redkeep.deb');
      if (h === 'h1') box(h).copyIn(join(pkgDir, `redkeep_${newer}_amd64.deb`), '/root/redkeep-newer.deb');
      const i = box(h).exec(['dpkg', '-i', '/root/redkeep.deb']);
      assert.equal(i.status, 0, i.stderr + i.stdout);
      assert.match(i.stderr, /edit \/etc\/redkeep\/redkeep\.toml/);
    }
    const b = box('h1');
    assert.match(b.run(['getent', 'passwd', 'redkeep']), /^redkeep:x:\d+:\d+:.*:\/nonexistent:\/usr\/sbin\/nologin$/m);
    assert.equal(b.run(['redkeep', '--version']).trim(), version);
    const s = show('h1', 'UnitFileState', 'ActiveState', 'User', 'FragmentPath');
    assert.deepEqual(s, { UnitFileState: 'enabled', ActiveState: 'inactive', User: 'redkeep', FragmentPath: '/lib/systemd/system/redkeep.service' });
    // The example config is all comments: check-config refuses it, so nothing started.
    assert.equal(b.exec(['redkeep', 'check-config']).status, 78);
    assert.match(b.run(['dpkg-query', '-W', '-f', '${Conffiles}', 'redkeep']), /\/etc\/redkeep\/redkeep\.toml [0-9a-f]{32}/);
    assert.equal(b.run(['stat', '-c', '%U:%G %a', CONFIG]).trim(), 'root:redkeep 640');
    assert.match(b.run(['man', '-w', '8', 'redkeep']), /redkeep\.8\.gz/);
    assert.match(b.run(['man', '-w', '5', 'redkeep.toml']), /redkeep\.toml\.5\.gz/);
    assert.match(b.run(['man', '-P', 'cat', '8', 'redkeep']), /check-config/);
    // Completion: the installed script completes commands.
    const completed = b.run(['bash', '-c', 'source /usr/share/bash-completion/completions/redkeep; COMP_WORDS=(redkeep sta); COMP_CWORD=1; COMP_LINE="redkeep sta"; COMP_POINT=${#COMP_LINE}; for f in $(complete -p redkeep | sed -n "s/.*-F \\([^ ]*\\).*/\\1/p"); do $f; done; echo "${COMPREPLY[@]}"']);
    assert.match(completed, /\bstatus\b/);
    // What the tests use is not what the package needs.
    const depends = b.run(['dpkg-query', '-W', '-f', '${Depends}', 'redkeep']);
    assert.doesNotMatch(depends, /keepalived|tcpdump|redis-server|nodejs/);
    assert.equal(b.exec(['test', '-x', '/usr/lib/redkeep/node']).status, 0);
  });

  it('runs as user redkeep with only its two capabilities under the sandbox; READY, then STATUS', async () => {
    for (const h of HOSTS) box(h).write(CONFIG, config(h, h === 'h3' ? ['', '[[track]]', 'name = "probe"', 'type = "exec"', 'command = ["/bin/false"]', 'interval = "200ms"', 'weight = -5'].join('\n') : ''), '0640');
    // systemctl start returns once the agent said READY=1 (Type=notify).
    box('h1').run(['systemctl', 'start', UNIT]);
    await waitFor('h1 to be master', 10_000, () => /^MASTER on redis-write/.test(state('h1')), 50);
    for (const h of ['h2', 'h3']) box(h).run(['systemctl', 'start', UNIT]);
    await settled('h1');
    assert.match(state('h2'), /^BACKUP/);
    const s = show('h1', 'ActiveState', 'SubState', 'MainPID', 'NRestarts');
    assert.equal(s.ActiveState, 'active');
    assert.equal(s.SubState, 'running');
    const pid = s.MainPID ?? '';
    const proc = box('h1').run(['cat', `/proc/${pid}/status`]);
    const field = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(proc)?.[1]?.trim() ?? '';
    const uid = box('h1').run(['id', '-u', 'redkeep']).trim();
    assert.deepEqual(field('Uid').split(/\s+/), [uid, uid, uid, uid]);
    assert.equal(field('CapEff'), TWO_CAPS);
    assert.equal(field('CapPrm'), TWO_CAPS);
    assert.equal(field('CapBnd'), TWO_CAPS);
    assert.equal(field('NoNewPrivs'), '1');
    assert.equal(field('Seccomp'), '2', 'SystemCallFilter: a seccomp filter');
    // ProtectSystem=strict: the agent's view of /usr and /etc is read-only; ProtectHome: no /root.
    const inside = (cmd: string): BoxResult => box('h1').exec(['nsenter', '-t', pid, '-m', '-r', '-w', '-S', uid, '-G', uid, 'sh', '-c', cmd]);
    assert.match(inside('touch /usr/lib/redkeep/x').stderr, /Read-only file system/);
    assert.match(inside('touch /etc/redkeep/x').stderr, /Read-only file system/);
    assert.match(inside('ls /root').stderr, /Permission denied/);
    assert.equal(inside('test -w /run/redkeep && test -w /var/lib/redkeep').status, 0, 'RuntimeDirectory and StateDirectory are writable');
    // The CLI reaches the agent through the default control socket.
    assert.match(box('h1').run(['redkeep', 'status']), /redis-write: MASTER/i);
  });

  it('logs to journald with priorities and fields: journalctl -p warning shows a failing track', () => {
    const warnings = box('h3').journal(UNIT, ['-p', 'warning', '-o', 'json']);
    const lines = warnings.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    const track = lines.find((l) => /track failed/.test(l.MESSAGE ?? '') && l.TRACK === 'probe');
    assert.ok(track, `a failing track among the warnings: ${warnings.slice(0, 2000)}`);
    assert.equal(track.PRIORITY, '4');
    assert.equal(track.INSTANCE, 'redis-write');
    // Nothing below warning, and no second timestamp in the message.
    assert.ok(lines.every((l) => Number(l.PRIORITY) <= 4), 'only warnings and worse');
    const all = box('h1').journal(UNIT, ['-o', 'json']).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    const transition = all.find((l) => l.EVENT === 'transition' && l._COMM !== 'systemd');
    assert.ok(transition, 'the transition to master, with its fields');
    assert.equal(transition.PRIORITY, '6');
    assert.equal(transition.INSTANCE, 'redis-write');
    assert.ok(transition.REASON, 'a reason');
    assert.ok(all.filter((l) => l._COMM !== 'systemd').every((l) => !/^\d{4}-\d\d-\d\dT/.test(l.MESSAGE ?? '')), 'no timestamp of its own');
  });

  it('reload: a good file applies without a restart; a bad one fails and the old configuration stays', async () => {
    const before = show('h1', 'MainPID').MainPID;
    box('h1').write(CONFIG, config('h1').replace('log_level = "info"', 'log_level = "debug"'), '0640');
    box('h1').run(['systemctl', 'reload', UNIT]);
    assert.equal(show('h1', 'ActiveState').ActiveState, 'active');
    box('h1').write(CONFIG, `${config('h1')}\n[agent]\nname = "again"\n`, '0640');
    try {
      const bad = box('h1').exec(['systemctl', 'reload', UNIT]);
      assert.notEqual(bad.status, 0, 'systemctl reload of a bad file fails');
      const s = show('h1', 'MainPID', 'ActiveState');
      assert.deepEqual(s, { MainPID: before, ActiveState: 'active' });
      assert.match(state('h1'), /^MASTER/);
      assert.deepEqual(holders(lab, CLUSTER_VIP), ['h1']);
      const errors = box('h1').journal(UNIT, ['-p', 'err']);
      // The agent's entry, and the error of `redkeep reload` (ExecReload) at its priority too.
      assert.match(errors, /reload refused: the running configuration stays/);
      assert.match(errors, /redkeep reload: refused, the running configuration stays/);
    } finally {
      box('h1').write(CONFIG, config('h1'), '0640');
    }
    box('h1').run(['systemctl', 'reload', UNIT]);
    await sleep(100);
    assert.equal(show('h1', 'MainPID').MainPID, before);
  });

  it('the watchdog restarts an agent that hangs (SIGSTOP)', async () => {
    const b = box('h3');
    b.run(['mkdir', '-p', '/etc/systemd/system/redkeep.service.d']);
    b.write('/etc/systemd/system/redkeep.service.d/watchdog.conf', '[Service]\nWatchdogSec=2s\n');
    b.run(['systemctl', 'daemon-reload']);
    b.run(['systemctl', 'restart', UNIT]);
    const s = show('h3', 'MainPID', 'NRestarts');
    b.run(['kill', '-STOP', s.MainPID ?? '']);
    await waitFor('systemd to restart the hung agent', 15_000, () => {
      const n = show('h3', 'MainPID', 'NRestarts', 'ActiveState');
      return n.ActiveState === 'active' && n.MainPID !== s.MainPID && n.MainPID !== '0' && Number(n.NRestarts) > Number(s.NRestarts);
    }, 200);
    assert.match(b.journal(UNIT), /Watchdog timeout/);
    b.run(['rm', '/etc/systemd/system/redkeep.service.d/watchdog.conf']);
    b.run(['systemctl', 'daemon-reload']);
    await settled('h1');
  });

  it('a shutdown that runs longer than TimeoutStopSec extends it (EXTEND_TIMEOUT_USEC) instead of being killed', async () => {
    const b = box('h3');
    // A stop hook of 4 s against a stop timeout of 2 s: the agent waits for its hooks.
    b.write(CONFIG, `${config('h3')}\n[instance.hooks]\nstop = ["/bin/sleep", "4"]\n`, '0640');
    b.run(['mkdir', '-p', '/etc/systemd/system/redkeep.service.d']);
    b.write('/etc/systemd/system/redkeep.service.d/stop.conf', '[Service]\nTimeoutStopSec=2s\n');
    try {
      b.run(['systemctl', 'daemon-reload']);
      b.run(['systemctl', 'restart', UNIT]);
      const t0 = Date.now();
      b.run(['systemctl', 'stop', UNIT]);
      const took = Date.now() - t0;
      const s = show('h3', 'Result', 'ActiveState');
      assert.deepEqual(s, { Result: 'success', ActiveState: 'inactive' }, b.journal(UNIT, ['-n', '30']));
      assert.ok(took >= 3500, `the stop waited for its hook (${took} ms)`);
      assert.doesNotMatch(b.journal(UNIT, ['-n', '30']), /timed out|SIGKILL/);
    } finally {
      b.run(['rm', '-f', '/etc/systemd/system/redkeep.service.d/stop.conf']);
      b.run(['systemctl', 'daemon-reload']);
      b.write(CONFIG, config('h3'), '0640');
    }
    b.run(['systemctl', 'start', UNIT]);
    await settled('h1');
  });

  it('a configuration error exits 78 and the unit does not loop restarting', async () => {
    const b = box('h3');
    b.write(CONFIG, config('h3').replace('vrid = 51', 'vrid = 51\nvridd = 2'), '0640');
    assert.notEqual(b.exec(['systemctl', 'restart', UNIT]).status, 0);
    const s = show('h3', 'ActiveState', 'ExecMainStatus', 'NRestarts');
    await sleep(3000);
    const t = show('h3', 'ActiveState', 'ExecMainStatus', 'NRestarts');
    assert.equal(t.ExecMainStatus, '78');
    assert.equal(t.ActiveState, 'failed');
    assert.equal(t.NRestarts, s.NRestarts, 'no restart after a configuration error');
    assert.match(b.journal(UNIT, ['-n', '20']), /vridd/);
    b.write(CONFIG, config('h3'), '0640');
    b.run(['systemctl', 'reset-failed', UNIT]);
    b.run(['systemctl', 'start', UNIT]);
    await settled('h1');
  });

  it('upgrade with dpkg -i: the master hands over, the new version runs, no acknowledged write lost', async () => {
    const writer = new Writer(lab, 5);
    await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
    const before = show('h1', 'MainPID').MainPID;
    const u = box('h1').exec(['dpkg', '-i', '/root/redkeep-newer.deb']);
    assert.equal(u.status, 0, u.stderr + u.stdout);
    assert.equal(box('h1').run(['redkeep', '--version']).trim(), newer);
    const s = show('h1', 'MainPID', 'ActiveState');
    assert.equal(s.ActiveState, 'active', box('h1').journal(UNIT, ['-n', '40']));
    assert.notEqual(s.MainPID, before, 'the agent was restarted');
    assert.match(box('h1').journal(UNIT), /switchover|hand/i);
    // The operator's file is kept.
    assert.equal(box('h1').run(['cat', CONFIG]), config('h1'));
    const at = Date.now();
    await settled('h1', 20_000);
    await writer.flowing(at, 500, 10_000);
    const acks = await writer.stop();
    for (const h of HOSTS) assert.deepEqual(lostOn(h, acks), [], `writes lost on ${h}`);
  });

  it('systemctl stop on the master hands over with no acknowledged write lost and releases the VIP', async () => {
    const writer = new Writer(lab, 5);
    await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
    box('h1').run(['systemctl', 'stop', UNIT]);
    assert.equal(show('h1', 'Result').Result, 'success', box('h1').journal(UNIT, ['-n', '40']));
    assert.ok(!holders(lab, CLUSTER_VIP).includes('h1'), 'h1 released the VIP');
    const at = Date.now();
    await settled('h2');
    await writer.flowing(at, 500, 10_000);
    const acks = await writer.stop();
    for (const h of ['h2', 'h3']) assert.deepEqual(lostOn(h, acks), [], `writes lost on ${h}`);
    box('h1').run(['systemctl', 'start', UNIT]);
    await settled('h1');
  });

  it('removal stops the agent by its shutdown path and leaves no VIP; purge removes its state', async () => {
    const rm = box('h1').exec(['dpkg', '-r', 'redkeep']);
    assert.equal(rm.status, 0, rm.stderr + rm.stdout);
    assert.ok(!holders(lab, CLUSTER_VIP).includes('h1'), 'no VIP left on h1');
    assert.equal(box('h1').exec(['pgrep', '-u', 'redkeep']).status, 1, 'no agent process left');
    assert.equal(box('h1').exec(['test', '-e', '/usr/bin/redkeep']).status, 1);
    assert.equal(box('h1').exec(['test', '-e', CONFIG]).status, 0, 'remove keeps the configuration');
    await settled('h2');
    // Installed again: enabled again, and started on the configuration that was kept.
    const again = box('h1').exec(['dpkg', '-i', '/root/redkeep-newer.deb']);
    assert.equal(again.status, 0, again.stderr + again.stdout);
    assert.deepEqual(show('h1', 'UnitFileState', 'ActiveState'), { UnitFileState: 'enabled', ActiveState: 'active' });
    await waitFor('h1 to take over again (preempt)', 15_000, () => holders(lab, CLUSTER_VIP).join() === 'h1', 50);
    assert.equal(box('h1').exec(['dpkg', '-r', 'redkeep']).status, 0);
    await settled('h2');
    const purge = box('h1').exec(['dpkg', '-P', 'redkeep']);
    assert.equal(purge.status, 0, purge.stderr + purge.stdout);
    assert.equal(box('h1').exec(['test', '-e', '/etc/redkeep']).status, 1);
    assert.equal(box('h1').exec(['test', '-e', '/var/lib/redkeep']).status, 1);
    assert.equal(box('h1').run(['dpkg-statoverride', '--list']).includes('redkeep'), false, 'no permission override left');
  });
});
