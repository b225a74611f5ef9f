import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ACCEPTED_KEYS } from 'redkeep';
import { parseHelp } from './help.js';
import { COMMANDS, bashCompletion, cliOutput, commandHelp, redkeepManPage, redkeepTomlManPage } from './pages.js';
import { README_BEGIN, README_END, withConfigReference } from './readme.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** groff's warnings (-ww) for a page, and its text as a reader sees it. */
function render(page: string): { warnings: string; text: string } {
  const check = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page, encoding: 'utf8' });
  assert.equal(check.error, undefined, 'groff runs (scripts/setup.sh installs groff-base)');
  const text = spawnSync('groff', ['-man', '-Tascii', '-P-c', '-rLL=200n'], { input: page, encoding: 'utf8' }).stdout.replace(/.\x08/g, '');
  return { warnings: check.stderr, text };
}

describe('generated documentation', () => {
  it("keeps the README's configuration tables as the reference makes them", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.ok(readme.includes(README_BEGIN) && readme.includes(README_END), 'the README has the markers');
    assert.equal(readme, withConfigReference(readme), 'README.md differs from the reference: run node scripts/dist/docs/gen-docs.js --readme README.md');
  });

  it('renders redkeep(8) without warnings, with every command and its options', async () => {
    const { warnings, text } = render(await redkeepManPage());
    assert.equal(warnings, '');
    for (const name of COMMANDS) {
      assert.match(text, new RegExp(`^ +redkeep ${name}\\b`, 'm'), `${name} in the SYNOPSIS`);
      const help = await commandHelp(name);
      assert.ok(help.description.length > 0, `${name} has a description`);
      assert.ok(text.includes(help.description.slice(0, 40)), `${name}'s description`);
      if (name === 'completion') continue;
      for (const flag of (await cliOutput([name, '--help'])).match(/--[a-z][\w-]*/g) ?? []) assert.ok(text.includes(flag), `${name} ${flag}`);
    }
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'EXIT STATUS', 'FILES', 'ENVIRONMENT', 'SEE ALSO']) assert.match(text, new RegExp(`^${section}$`, 'm'));
    for (const s of ['78', 'REDKEEP_CONFIG', '/etc/redkeep/redkeep.toml', '/run/redkeep/redkeep.sock', '/var/lib/redkeep']) assert.ok(text.includes(s), s);
  });

  it('reads the help back the same whatever width it was wrapped at', async () => {
    const columns = process.env['COLUMNS'];
    try {
      for (const args of [['--help'], ...COMMANDS.filter((c) => c !== 'completion').map((c) => [c, '--help'])]) {
        process.env['COLUMNS'] = '60';
        const narrow = parseHelp(await cliOutput(args));
        process.env['COLUMNS'] = '100';
        assert.deepEqual(narrow, parseHelp(await cliOutput(args)), args.join(' '));
      }
    } finally {
      if (columns === undefined) delete process.env['COLUMNS'];
      else process.env['COLUMNS'] = columns;
    }
  });

  it('renders redkeep.toml(5) without warnings, with every section and key', () => {
    const { warnings, text } = render(redkeepTomlManPage());
    assert.equal(warnings, '');
    for (const [table, keys] of Object.entries(ACCEPTED_KEYS)) {
      // The top level's keys are the sections, checked below.
      if (table === '') continue;
      for (const key of keys) assert.match(text, new RegExp(`^ +${key} \\(`, 'm'), `${table || 'top level'}: ${key}`);
    }
    assert.ok(text.includes('[[instance]]') && text.includes('[instance.redis]') && text.includes('[[track]]'));
    assert.match(text, /^EXAMPLE$/m);
    assert.ok(text.includes('virtual_addresses = ["192.0.2.50/24"]'), 'the example file');
  });

  describe('bash completion', () => {
    let dir = '';
    before(() => {
      // `redkeep` on PATH, as the package installs it; the script calls it for its completions.
      dir = mkdtempSync(join(tmpdir(), 'redkeep-completion-'));
      writeFileSync(join(dir, 'redkeep'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'agent', 'bin', 'redkeep.js')}" "$@"\n`);
      chmodSync(join(dir, 'redkeep'), 0o755);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function complete(words: string[]): string[] {
      const script = join(dir, 'redkeep.bash-completion');
      const line = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _redkeep_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['--norc', '--noprofile', '-c', line], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter((x) => x !== '');
    }

    it('completes command names and options', async () => {
      writeFileSync(join(dir, 'redkeep.bash-completion'), await bashCompletion());
      assert.deepEqual(complete(['redkeep', 'sta']), ['status']);
      assert.ok(complete(['redkeep', 'status', '--cl']).includes('--cluster'));
    });
  });
});
