export * from './captures.js';
export * from './pcap.js';
export * from './tcpdump.js';
