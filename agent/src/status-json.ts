// `status --json` (the control socket's answer to "status"): the status with a schema version, and
// every key present, an absent value as null (JSON has no undefined; a key that comes and goes is
// harder to read than a null). The keys are listed in the README (CLI, status --json).

import type { AgentStatus } from './status-types.js';

/** Raised when a key changes meaning or goes away; new keys keep the version. */
export const STATUS_SCHEMA = 1;

/** T as JSON.parse gives it back from withNulls: undefined is null, optional keys are present. */
export type WithNulls<T> = T extends readonly (infer E)[]
  ? readonly WithNulls<E>[]
  : T extends object
    ? { readonly [K in keyof T]-?: WithNulls<Exclude<T[K], undefined>> | (undefined extends T[K] ? null : never) }
    : T;

export type StatusJson = { readonly schema: typeof STATUS_SCHEMA } & WithNulls<AgentStatus>;

/** A deep copy of a plain value with every undefined (a key's value or an array element) as null. */
export function withNulls<T>(value: T): WithNulls<T> {
  const walk = (v: unknown): unknown => {
    if (v === undefined) return null;
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as WithNulls<T>;
}

export function statusJson(status: AgentStatus): StatusJson {
  return { schema: STATUS_SCHEMA, ...withNulls(status) };
}
