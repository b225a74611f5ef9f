// Which instances are in maintenance on this host, kept across agent restarts in the state
// directory (systemd's StateDirectory, /var/lib/redkeep by default): one JSON file, written
// whole to a temporary file and renamed, so a crash leaves the old file or the new one.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAINTENANCE_FILE = 'maintenance.json';

interface StoredMaintenance {
  readonly instances: readonly string[];
}

/** The instances in maintenance; a missing file is none. A file that cannot be read throws (the agent does not start). */
export function loadMaintenance(stateDir: string): Set<string> {
  const path = join(stateDir, MAINTENANCE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw new Error(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON: fix or remove it (it lists the instances in maintenance)`);
  }
  const list = (v as Partial<StoredMaintenance> | null)?.instances;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new Error(`${path}: expected {"instances": ["name", ...]}`);
  return new Set(list);
}

export function saveMaintenance(stateDir: string, names: ReadonlySet<string>): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const path = join(stateDir, MAINTENANCE_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  const body: StoredMaintenance = { instances: [...names].sort() };
  writeFileSync(tmp, `${JSON.stringify(body)}\n`, { mode: 0o640 });
  renameSync(tmp, path);
}
