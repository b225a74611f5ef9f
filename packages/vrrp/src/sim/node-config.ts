import { type InstanceConfig, KEEPALIVED_GARP_DEFAULTS } from '../instance.js';

/**
 * A node's instance configuration for simulations: VRID 51, v3 at 100 cs, preempt on, one VIP
 * 192.0.2.50, primary address 192.0.2.(10 + index). Override what a test cares about.
 */
export function simNodeConfig(index: number, overrides: Partial<InstanceConfig> = {}): InstanceConfig {
  return {
    name: `n${index}`,
    vrid: 51,
    version: 3,
    family: 'ipv4',
    priority: 100,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayMs: 0,
    primaryAddress: `192.0.2.${10 + index}`,
    virtualAddresses: ['192.0.2.50'],
    garp: KEEPALIVED_GARP_DEFAULTS,
    tracks: [],
    ...overrides,
  };
}
