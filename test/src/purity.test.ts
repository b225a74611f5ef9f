// The cores are pure (STYLE.md): no I/O modules, no clocks, no timers, no logger. This test reads
// the sources of packages/vrrp (the VRRP core) and packages/failover (the failover policy) and
// fails on any of them.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const PURE = ['vrrp', 'failover'].map((p) => fileURLToPath(new URL(`../../packages/${p}/src`, import.meta.url)));

const FORBIDDEN: readonly [RegExp, string][] = [
  [/from\s+['"](node:|fs|net|dgram|os|child_process|events)['"/]/, 'a Node I/O module import'],
  [/\brequire\s*\(/, 'require()'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/\bDate\.now\b|\bnew Date\b/, 'the wall clock'],
  [/\bperformance\b/, 'a clock (time comes in as `now`)'],
  [/\bset(Timeout|Interval|Immediate)\b/, 'a timer'],
  [/\bconsole\./, 'a logger'],
  [/\bprocess\./, 'the process'],
  [/\bBuffer\b/, 'Node Buffer (use Uint8Array)'],
  [/\bMath\.random\b/, 'unseeded randomness'],
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

for (const SRC of PURE) {
  describe(`${SRC.split('/').slice(-2, -1)[0] ?? SRC} purity`, () => {
    it('has sources to check', () => {
      assert.ok(sources(SRC).length >= 2);
    });

    for (const file of sources(SRC)) {
      it(`${file.slice(SRC.length + 1)} uses no I/O, clock, timer or logger`, () => {
        const lines = readFileSync(file, 'utf8').split('\n');
        lines.forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '');
          for (const [re, what] of FORBIDDEN) {
            assert.ok(!re.test(code), `${file}:${i + 1} uses ${what}: ${line.trim()}`);
          }
        });
      });
    }
  });
}
