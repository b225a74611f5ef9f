export * from './capture-reader.js';
export * from './captures.js';
export * from './pcap.js';
export * from './pcapng-write.js';
export * from './tcpdump.js';
