import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type InstanceSettings, type RedkeepConfig, type TrackSettings, loadConfig } from '../config/config.js';
import { type UnitChange, unitChange, unitKeys } from './reload-plan.js';

const tmp = mkdtempSync(join(tmpdir(), 'redkeep-reload-plan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

const BASE = `[agent]
name = "redis-a"

[[track]]
name = "app"
type = "exec"
command = ["/usr/local/bin/check-app", "--quick"]
interval = "1s"
weight = -20

[[track]]
name = "drain"
type = "file"
file = "/run/redkeep/drain"

[[track]]
name = "alive"
type = "redis-ping"

[[track]]
name = "unused"
type = "exec"
command = ["/bin/true"]

[[instance]]
name = "redis-write"
interface = "eth0"
vrid = 51
priority = 150
advert_interval = "100ms"
virtual_addresses = ["192.0.2.50/24"]
members = ["192.0.2.11", "192.0.2.12", "192.0.2.13"]
tracks = ["app", "drain", "alive"]

[instance.redis]
address = "127.0.0.1:6379"
max_lag = 1000

[instance.hooks]
notify = ["/etc/redkeep/notify.sh"]
timeout = "5s"
`;

/** The file with `edit` applied to its text, loaded as the agent loads it. */
function config(edit: (text: string) => string = (t) => t): RedkeepConfig {
  const p = join(tmp, `c${n++}.toml`);
  writeFileSync(p, edit(BASE));
  return loadConfig(p);
}

function only(c: RedkeepConfig): InstanceSettings {
  const i = c.instances[0];
  assert.ok(i);
  return i;
}

const base = config();
const baseKeys = unitKeys(only(base), base.tracks, 'secret');

/** What a reload from BASE to the edited file does to the instance. */
function change(edit: (text: string) => string, password = 'secret'): UnitChange {
  const next = config(edit);
  return unitChange(baseKeys, unitKeys(only(next), next.tracks, password));
}

/** Replaces one exact piece of BASE (which must be there). */
const sub = (from: string, to: string) => (text: string): string => {
  assert.ok(text.includes(from), `BASE holds ${from}`);
  return text.replace(from, to);
};

describe('reload plan: what a reload does to a running instance', () => {
  it('leaves an instance unchanged when nothing it uses changed', () => {
    assert.equal(change((t) => t), 'unchanged');
    assert.equal(change(sub('command = ["/bin/true"]', 'command = ["/bin/false"]')), 'unchanged', 'a [[track]] the instance does not use');
    assert.equal(change(sub('name = "redis-a"', 'name = "redis-a"\nlog_level = "debug"\nlog_format = "json"')), 'unchanged', '[agent] settings are not the instance\'s');
  });

  it('updates in place a change of hooks or their timeout', () => {
    assert.equal(change(sub('notify = ["/etc/redkeep/notify.sh"]', 'notify = ["/etc/redkeep/notify-v2.sh", "--verbose"]')), 'updated');
    assert.equal(change(sub('timeout = "5s"', 'timeout = "2s"')), 'updated');
    assert.equal(change(sub('notify = ["/etc/redkeep/notify.sh"]', 'master = ["/m"]\nbackup = ["/b"]\nfault = ["/f"]\nstop = ["/s"]\nclient_reconfig = ["/c"]')), 'updated');
    assert.equal(change(sub('[instance.hooks]\nnotify = ["/etc/redkeep/notify.sh"]\ntimeout = "5s"\n', '')), 'updated', 'hooks removed');
  });

  it('updates in place how a track is checked: command, interval, timeout, rise, fall', () => {
    assert.equal(change(sub('command = ["/usr/local/bin/check-app", "--quick"]', 'command = ["/usr/local/bin/check-app-v2"]')), 'updated');
    assert.equal(change(sub('interval = "1s"', 'interval = "2s"\ntimeout = "500ms"\nrise = 3\nfall = 2')), 'updated');
    // Another file is another number, unknown until read: a restart starts it failed, as at start.
    assert.equal(change(sub('file = "/run/redkeep/drain"', 'file = "/run/redkeep/drain-2"')), 'restarted');
    assert.equal(change(sub('type = "redis-ping"', 'type = "redis-ping"\ninterval = "250ms"')), 'updated');
  });

  it('restarts an instance whose VRRP settings changed', () => {
    for (const [from, to] of [
      ['vrid = 51', 'vrid = 52'],
      ['interface = "eth0"', 'interface = "eth1"'],
      ['priority = 150', 'priority = 140'],
      ['advert_interval = "100ms"', 'advert_interval = "200ms"'],
      ['virtual_addresses = ["192.0.2.50/24"]', 'virtual_addresses = ["192.0.2.50/24", "192.0.2.51/24"]'],
      ['members = ["192.0.2.11", "192.0.2.12", "192.0.2.13"]', 'members = ["192.0.2.11", "192.0.2.12"]'],
      ['vrid = 51', 'vrid = 51\npreempt = false'],
      ['vrid = 51', 'vrid = 51\ntrack_interfaces = [{ name = "eth1", weight = -20 }]'],
    ] as const) {
      assert.equal(change(sub(from, to)), 'restarted', `${from} -> ${to}`);
    }
  });

  it('restarts an instance whose tracks change the core\'s inputs: one added or removed, a weight, a type', () => {
    assert.equal(change(sub('tracks = ["app", "drain", "alive"]', 'tracks = ["app", "drain"]')), 'restarted', 'removed');
    assert.equal(change(sub('tracks = ["app", "drain", "alive"]', 'tracks = ["app", "drain", "alive", "unused"]')), 'restarted', 'added');
    assert.equal(change(sub('tracks = ["app", "drain", "alive"]', 'tracks = [{ name = "app", weight = -30 }, "drain", "alive"]')), 'restarted', 'a reference\'s weight');
    assert.equal(change(sub('weight = -20', 'weight = -30')), 'restarted', 'the default weight of the [[track]]');
    assert.equal(change(sub('name = "alive"\ntype = "redis-ping"', 'name = "alive"\ntype = "redis-role"')), 'restarted', 'a type');
  });

  it('restarts an instance whose Redis changed: address, password, data guard', () => {
    assert.equal(change(sub('address = "127.0.0.1:6379"', 'address = "127.0.0.1:6380"')), 'restarted');
    assert.equal(change(sub('max_lag = 1000', 'max_lag = 2000')), 'restarted');
    assert.equal(change((t) => t, 'another secret'), 'restarted', 'the password read now');
    assert.equal(unitChange(baseKeys, unitKeys(only(base), base.tracks, undefined)), 'restarted', 'no password now');
  });

  it('restarts on any setting it does not know to be applied in place, and adds a new instance', () => {
    const i = only(base);
    const withNew = { ...i, someFutureSetting: 1 } as InstanceSettings;
    assert.equal(unitChange(baseKeys, unitKeys(withNew, base.tracks, 'secret')), 'restarted');
    const app = base.tracks.find((t) => t.name === 'app');
    assert.ok(app);
    const tracks: TrackSettings[] = base.tracks.map((t) => (t === app ? ({ ...t, someFutureKey: 'x' } as TrackSettings) : t));
    assert.equal(unitChange(baseKeys, unitKeys(i, tracks, 'secret')), 'restarted');
    assert.equal(unitChange(undefined, baseKeys), 'added');
  });
});
