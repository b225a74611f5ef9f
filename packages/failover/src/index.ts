export * from './history.js';
export * from './data-guard.js';
export * from './role-policy.js';
export * from './write-gate.js';
export * from './handover.js';
export * from './read-serve.js';
export * from './redis-hosts.js';
export * from './lease-guard.js';
