// Simulation harness for tests and benchmarks: N instances on a virtual LAN.
export * from './cluster.js';
export * from './node-config.js';
