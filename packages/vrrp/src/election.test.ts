import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { electedBackup } from './election.js';

describe('electedBackup', () => {
  it('picks the highest priority (the shortest Skew_Time)', () => {
    assert.equal(electedBackup('ipv4', [{ address: '192.0.2.11', priority: 110 }, { address: '192.0.2.12', priority: 120 }, { address: '192.0.2.13', priority: 100 }]), '192.0.2.12');
  });

  it('breaks a tie by the higher primary address (RFC 5798 §6.4.3), compared as numbers', () => {
    assert.equal(electedBackup('ipv4', [{ address: '192.0.2.9', priority: 100 }, { address: '192.0.2.10', priority: 100 }]), '192.0.2.10');
    assert.equal(electedBackup('ipv6', [{ address: 'fe80::a', priority: 100 }, { address: 'fe80::9', priority: 100 }]), 'fe80::a');
  });

  it('has no answer without a usable candidate', () => {
    assert.equal(electedBackup('ipv4', []), undefined);
    assert.equal(electedBackup('ipv4', [{ address: '2001:db8::1', priority: 200 }, { address: 'junk', priority: 200 }]), undefined);
  });
});
