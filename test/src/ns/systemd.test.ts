// redkeep as a systemd service: the unit in examples/ passes `systemd-analyze verify` without a
// warning; the agent speaks sd_notify (READY, STATUS, WATCHDOG, RELOADING, STOPPING and
// EXTEND_TIMEOUT_USEC) to a notify socket the test creates; and it works as a non-root user
// holding only CAP_NET_ADMIN and CAP_NET_RAW.
// No systemd runs here: the notify socket and the privileges are set up by hand.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { UnixDatagramReceiver } from '@redkeep/afpacket';
import { AgentProc, Lab, RunDir, holders, sleep, waitFor } from '@redkeep/scripts/lab';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const UNIT = join(REPO, 'examples', 'redkeep.service');
const VIP = '192.0.2.50';
/** An unprivileged uid/gid with no passwd entry: nothing on the machine is changed. */
const NOBODY_UID = 64_123;
const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
/** A group every Debian system has, standing in for the operators' control_group. */
const CONTROL_GROUP = 'nogroup';
const CONTROL_GID = 65_534;

function unitSettings(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const x = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (x?.[1] !== undefined && x[2] !== undefined) m.set(x[1], x[2]);
  }
  return m;
}

/** The unit with its commands pointed at this checkout's CLI (verify checks that they exist). */
function atCheckout(unit: string): string {
  return unit.replace(/^(Exec\w+=)\/usr\/bin\/redkeep\b/gm, `$1${join(REPO, 'agent', 'bin', 'redkeep.js')}`);
}

describe('systemd unit', () => {
  it('has what the service needs and passes systemd-analyze verify without a warning', () => {
    const text = readFileSync(UNIT, 'utf8');
    const u = unitSettings(text);
    assert.equal(u.get('Type'), 'notify');
    assert.match(u.get('WatchdogSec') ?? '', /^\d+s$/);
    assert.equal(u.get('Restart'), 'on-failure');
    // A refused reload fails `systemctl reload` (the CLI exits non-zero), the agent keeps running.
    assert.match(u.get('ExecReload') ?? '', /\/redkeep reload$/);
    assert.equal(u.get('User'), 'redkeep');
    assert.equal(u.get('AmbientCapabilities'), 'CAP_NET_ADMIN CAP_NET_RAW');
    assert.equal(u.get('CapabilityBoundingSet'), 'CAP_NET_ADMIN CAP_NET_RAW');
    assert.equal(u.get('NoNewPrivileges'), 'yes');
    assert.equal(u.get('ProtectSystem'), 'strict');
    const dir = mkdtempSync(join(tmpdir(), 'redkeep-unit-'));
    try {
      // verify checks that ExecStart and ExecReload exist: point them at this checkout's CLI.
      const copy = join(dir, 'redkeep.service');
      writeFileSync(copy, atCheckout(text));
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'no warnings');
      // The check can fail: a misspelt setting is a warning.
      writeFileSync(copy, atCheckout(text.replace(/^Type=notify$/m, 'Type=notifyy')));
      assert.match(spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' }).stderr, /notifyy/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the agent under systemd (one lab host, no systemd running)', () => {
  let lab: Lab;
  let dir: RunDir;
  let agent: AgentProc | undefined;

  beforeEach(() => {
    lab = Lab.create({ hosts: 1, ipv6: false });
    dir = new RunDir();
    agent = undefined;
  });

  afterEach(() => {
    if (agent?.running) agent.signal('SIGKILL');
    lab.destroy();
    dir.remove();
  });

  it('sends READY, STATUS, WATCHDOG every half WatchdogSec, RELOADING around a reload, and STOPPING to the notify socket', async () => {
    const socket = join(dir.path, 'notify.sock');
    const messages: { atMs: number; text: string }[] = [];
    const rx = UnixDatagramReceiver.bind(socket, (d) => messages.push({ atMs: Date.now(), text: d.toString() }));
    try {
      agent = new AgentProc(lab, 'h1', dir, { priority: 100 }).start({ env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' } });
      await waitFor('READY=1', 8000, () => messages.some((m) => m.text.split('\n').includes('READY=1')));
      await waitFor('STATUS=MASTER on redis-write', 8000, () => messages.some((m) => m.text.split('\n').includes('STATUS=MASTER on redis-write')));
      const readyAt = messages.find((m) => m.text.includes('READY=1'))?.atMs ?? 0;
      await sleep(1100);
      const pings = messages.filter((m) => m.text === 'WATCHDOG=1' && m.atMs >= readyAt);
      // 200 ms apart (half of 400 ms): about five in 1.1 s.
      assert.ok(pings.length >= 4 && pings.length <= 7, `${pings.length} watchdog pings in 1.1 s`);
      // A reload (SIGHUP, as `redkeep reload` would): RELOADING=1 with the monotonic clock, then READY=1.
      const beforeReload = messages.length;
      const hupAtUsec = process.hrtime.bigint() / 1000n;
      agent.signal('SIGHUP');
      await waitFor('READY=1 after the reload', 8000, () => messages.slice(beforeReload).some((m) => m.text.startsWith('READY=1\n')));
      const reloading = messages.slice(beforeReload).find((m) => m.text.startsWith('RELOADING=1\n'));
      assert.ok(reloading, messages.slice(beforeReload).map((m) => m.text).join(' | '));
      const usec = BigInt(/^MONOTONIC_USEC=(\d+)$/m.exec(reloading.text)?.[1] ?? '0');
      assert.ok(usec >= hupAtUsec && usec <= process.hrtime.bigint() / 1000n, `MONOTONIC_USEC=${usec} is CLOCK_MONOTONIC`);
      assert.match(messages.slice(beforeReload).find((m) => m.text.startsWith('READY=1\n'))?.text ?? '', /^STATUS=MASTER on redis-write$/m);
      agent.signal('SIGTERM');
      assert.equal(await agent.exited(), 0);
      assert.ok(messages.some((m) => m.text.split('\n').includes('STOPPING=1')), messages.map((m) => m.text).join(' | '));
      assert.match(messages.find((m) => m.text.split('\n').includes('STOPPING=1'))?.text ?? '', /^EXTEND_TIMEOUT_USEC=\d+$/m, 'more time asked for as the shutdown begins');
      const stoppingAt = messages.findIndex((m) => m.text.split('\n').includes('STOPPING=1'));
      assert.deepEqual(messages.slice(stoppingAt + 1).filter((m) => /WATCHDOG|READY/.test(m.text)), [], 'no watchdog ping or READY after STOPPING');
    } finally {
      rx.close();
    }
  });

  it('works as a non-root user holding only CAP_NET_ADMIN and CAP_NET_RAW, and cannot start without them', async () => {
    // The checkout may sit in a private temporary directory: let the unprivileged user through.
    const opened: { path: string; mode: number }[] = [];
    for (let p = REPO; p !== dirname(p); p = dirname(p)) {
      const mode = statSync(p).mode & 0o7777;
      if ((mode & 0o001) === 0) {
        opened.push({ path: p, mode });
        chmodSync(p, mode | 0o001);
      }
    }
    try {
      chownSync(dir.path, NOBODY_UID, NOBODY_UID);
      const setpriv = (caps: string): string[] => [
        'setpriv', `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, '--clear-groups', `--inh-caps=${caps}`, `--ambient-caps=${caps}`, '--bounding-set=-all,+net_admin,+net_raw', '--',
      ];
      // Without the capabilities it refuses to start, and says why.
      const bare = new AgentProc(lab, 'h1', dir, { priority: 100 });
      chownSync(bare.config, NOBODY_UID, NOBODY_UID);
      bare.start({ prefix: setpriv('-all') });
      assert.notEqual(await bare.exited(8000), 0);
      assert.match(bare.logs.text, /cannot start.*Operation not permitted.*needs CAP_NET_RAW/);

      // As the unit's SupplementaryGroups would: a member of the control group, so that
      // operators in that group can use the control socket.
      agent = new AgentProc(lab, 'h1', dir, { priority: 100, agentExtra: `control_group = "${CONTROL_GROUP}"` });
      chownSync(agent.config, NOBODY_UID, NOBODY_UID);
      agent.start({ prefix: setpriv('-all,+net_admin,+net_raw').map((a) => (a === '--clear-groups' ? `--groups=${CONTROL_GID}` : a)) });
      await waitFor('the VIP on h1', 8000, () => holders(lab, VIP).includes('h1'));
      assert.equal(await agent.state(), 'master');
      const pid = agent.child?.pid;
      assert.ok(pid);
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.match(st, new RegExp(`^Uid:\\s+${NOBODY_UID}\\s`, 'm'));
      const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(st)?.[1] ?? '0'}`);
      assert.equal(capEff, (1n << BigInt(CAP_NET_ADMIN)) | (1n << BigInt(CAP_NET_RAW)), `CapEff ${capEff.toString(16)}`);
      const sock = statSync(agent.socket);
      assert.equal(sock.uid, NOBODY_UID);
      assert.equal(sock.gid, CONTROL_GID, 'the control socket belongs to control_group');
      assert.equal(sock.mode & 0o777, 0o660);
      agent.signal('SIGTERM');
      assert.equal(await agent.exited(), 0);
      assert.deepEqual(holders(lab, VIP), [], 'the VIP is released on the way out');
    } finally {
      for (const o of opened.reverse()) chmodSync(o.path, o.mode);
    }
  });
});
