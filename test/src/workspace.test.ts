// The workspace rules of STYLE.md, checked: every package has an exports map, and each package's
// tsconfig references mirror its workspace dependencies exactly.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (pnpm-workspace.yaml) not found');
    dir = up;
  }
  return dir;
}

const root = repoRoot();

interface Pkg {
  dir: string;
  name: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function packages(): Pkg[] {
  const dirs = ['agent', 'scripts', 'test', ...readdirSync(join(root, 'packages')).map((d) => join('packages', d))];
  return dirs
    .filter((d) => existsSync(join(root, d, 'package.json')))
    .map((d) => ({ dir: d, ...(JSON.parse(readFileSync(join(root, d, 'package.json'), 'utf8')) as Omit<Pkg, 'dir'>) }));
}

describe('workspace', () => {
  const pkgs = packages();
  const byName = new Map(pkgs.map((p) => [p.name, p]));

  it('finds the packages', () => {
    assert.ok(pkgs.length >= 5);
  });

  for (const p of pkgs) {
    it(`${p.name} has an exports map`, () => {
      assert.ok(p.exports && typeof p.exports === 'object', `${p.dir}/package.json has no exports map`);
    });

    it(`${p.name}'s tsconfig references mirror its workspace dependencies`, () => {
      const deps = { ...p.dependencies, ...p.devDependencies };
      const want = Object.entries(deps)
        .filter(([, v]) => v.startsWith('workspace:'))
        .map(([name]) => resolve(root, byName.get(name)?.dir ?? `missing:${name}`))
        .sort();
      const tsconfig = JSON.parse(readFileSync(join(root, p.dir, 'tsconfig.json'), 'utf8')) as {
        references?: { path: string }[];
      };
      const got = (tsconfig.references ?? []).map((r) => resolve(root, p.dir, r.path)).sort();
      assert.deepEqual(got, want);
    });
  }

  it('lists every package in the root tsconfig', () => {
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { references: { path: string }[] };
    const refs = tsconfig.references.map((r) => resolve(root, r.path)).sort();
    assert.deepEqual(refs, pkgs.map((p) => resolve(root, p.dir)).sort());
  });
});
