export * from './announcer.js';
export * from './netlink.js';
export * from './vrrp-socket.js';
