// The alert rules and the Grafana dashboard in examples/ against the metrics the agent emits:
// promtool checks the rules and runs their unit tests, and every expression of both names only
// metrics that renderMetrics() writes for the status fixture.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { renderMetrics } from './render.js';
import { INSTANCE, READ_REPLICA, STATUS } from './status-fixture.js';

// This file runs as agent/dist/metrics/alerts.test.js.
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const RULES_DIR = join(EXAMPLES, 'prometheus');
const RULES = 'redkeep-alerts.yml';
const RULE_TESTS = 'redkeep-alerts.test.yml';
const DASHBOARD = join(EXAMPLES, 'grafana', 'redkeep.json');

function promtool(cwd: string, ...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool: ${r.error.message} (Debian's prometheus package has it: scripts/setup.sh installs it)`);
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** The metric families renderMetrics() writes for a master and a read replica, lag measured. */
function emitted(): Set<string> {
  const text = renderMetrics({ ...STATUS, instances: [INSTANCE, READ_REPLICA] }, { eventLoopLagS: 0.01 });
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? ''));
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** The metric names in a PromQL expression (Grafana's variables and label_values() allowed). */
function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\blabel_values\s*\(([^,)]*),[^)]*\)/g, '($1)')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\{?\w+\}?/g, '');
  const names: string[] = [];
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const at = m.index;
    const after = s.slice(at + m[0].length).trimStart();
    // A function or an aggregation; an exponent or a unit of a number (1e3, 5m).
    if (after.startsWith('(') || NOT_METRICS.has(m[0].toLowerCase()) || /[0-9.]/.test(s[at - 1] ?? '')) continue;
    names.push(m[0]);
  }
  return names;
}

/** The `expr:` values of a rules file, single-line or block (`|`, `>`). */
function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    const indent = (m[1] ?? '').length;
    const v = (m[2] ?? '').trim();
    if (!/^[|>][-+]?$/.test(v)) {
      out.push(v);
      return;
    }
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== '' && next.search(/\S/) <= indent) break;
      block.push(next);
    }
    out.push(block.join('\n'));
  });
  return out;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboardExprs(d: { panels?: Panel[]; templating?: { list?: { type?: string; query?: unknown }[] } }): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (ps: Panel[] | undefined): void => {
    for (const p of ps ?? []) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ where: `panel "${p.title ?? '?'}"`, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q !== undefined) out.push({ where: 'a variable', expr: q });
  }
  return out;
}

function unknownNames(exprs: readonly { where: string; expr: string }[], known: ReadonlySet<string>): string[] {
  return exprs.flatMap(({ where, expr }) => {
    const names = metricNames(expr);
    if (names.length === 0) return [`${where}: no metric in ${expr}`];
    return names.filter((n) => !known.has(n)).map((n) => `${where}: ${n} in ${expr}`);
  });
}

describe('alert rules and dashboard', () => {
  const known = emitted();
  const scratch = mkdtempSync(join(tmpdir(), 'redkeep-alerts-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('finds the metric names of an expression', () => {
    assert.deepEqual(metricNames('sum by (job, vrrp_instance) (rate(redkeep_a_total{state="x{y}"}[5m] offset 5m)) > 1e3 and on (job) redkeep_b == 1'), ['redkeep_a_total', 'redkeep_b']);
    assert.deepEqual(metricNames('label_values(redkeep_instance_state{job=~"$job"}, vrrp_instance)'), ['redkeep_instance_state']);
    assert.deepEqual(metricNames('time() - process_start_time_seconds{job=~"${job}"} * on (job, instance) group_left () redkeep_up'), ['process_start_time_seconds', 'redkeep_up']);
  });

  it('the rules pass promtool check rules', () => {
    const r = promtool(RULES_DIR, 'check', 'rules', RULES);
    assert.ok(r.ok, r.output);
  });

  it('the rules pass their unit tests (promtool test rules), one for each rule', () => {
    const r = promtool(RULES_DIR, 'test', 'rules', RULE_TESTS);
    assert.ok(r.ok, r.output);
    const rules = [...readFileSync(join(RULES_DIR, RULES), 'utf8').matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]);
    const tested = new Set([...readFileSync(join(RULES_DIR, RULE_TESTS), 'utf8').matchAll(/alertname: (\S+)[\s\S]*?exp_alerts:\s*\n\s*- exp_labels/g)].map((m) => m[1]));
    assert.ok(rules.length >= 7, `${rules.length} rules`);
    for (const a of rules) assert.ok(tested.has(a), `${a} has a test that expects it to fire`);
  });

  it('promtool fails on a broken rule and on a rule that fires when it should not', () => {
    const original = readFileSync(join(RULES_DIR, RULES), 'utf8');
    cpSync(join(RULES_DIR, RULE_TESTS), join(scratch, RULE_TESTS));
    const write = (text: string): void => writeFileSync(join(scratch, RULES), text);
    write(original.replace('> 1\n', '> 0\n'));
    assert.notEqual(original.replace('> 1\n', '> 0\n'), original);
    assert.equal(promtool(scratch, 'check', 'rules', RULES).ok, true);
    assert.equal(promtool(scratch, 'test', 'rules', RULE_TESTS).ok, false, 'two masters at > 0 fires for the healthy instance');
    write(original.replace('sum by (job, vrrp_instance) (', 'sum by (job, vrrp_instance ('));
    assert.equal(promtool(scratch, 'check', 'rules', RULES).ok, false, 'a syntax error');
  });

  it('the rules name only metrics the agent emits', () => {
    const exprs = ruleExprs(readFileSync(join(RULES_DIR, RULES), 'utf8')).map((expr) => ({ where: 'a rule', expr }));
    assert.ok(exprs.length >= 7);
    assert.deepEqual(unknownNames(exprs, known), []);
  });

  it('the Grafana dashboard is JSON and names only metrics the agent emits', () => {
    const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Parameters<typeof dashboardExprs>[0];
    const exprs = dashboardExprs(d);
    assert.ok(exprs.length >= 20, `${exprs.length} expressions`);
    assert.deepEqual(unknownNames(exprs, known), []);
    // The check itself: a misspelt name and an expression without a metric are caught.
    assert.equal(unknownNames([{ where: 'x', expr: 'rate(redkep_instance_transitions_total[5m])' }], known).length, 1);
    assert.equal(unknownNames([{ where: 'x', expr: 'vector(1)' }], known).length, 1);
  });
});
