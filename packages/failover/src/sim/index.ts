export * from './sim-redis.js';
export * from './world.js';
export * from './schedule.js';
export * from './check.js';
export * from './sim-etcd.js';
