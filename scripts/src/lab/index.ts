export * from './lab.js';
export * from './procs.js';
export * from './redis-cluster.js';
export * from './scenario.js';
export * from './takeover-watch.js';
export * from './box.js';
export * from './etcd-cluster.js';
