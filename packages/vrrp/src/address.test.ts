import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalAddress, compareAddressBytes, formatIpv6, parseCidr, parseIpv4, parseIpv6 } from './address.js';

describe('addresses', () => {
  it('formats IPv6 as RFC 5952 says: lower case, longest zero run compressed, not a single group', () => {
    const cases: [string, string][] = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::', '::'],
      ['ff02::12', 'ff02::12'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalAddress(input), want, input);
  });

  it('round-trips any 16 bytes through text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        assert.deepEqual(parseIpv6(formatIpv6(b)), b);
      }),
    );
  });

  it('refuses malformed addresses', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', '']) assert.equal(parseIpv4(bad), undefined, bad);
    for (const bad of ['1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '%eth0', 'fe80::1%']) {
      assert.equal(parseIpv6(bad), undefined, bad);
    }
  });

  it('orders addresses as unsigned big-endian numbers', () => {
    const a = parseIpv4('192.0.2.9') ?? new Uint8Array();
    const b = parseIpv4('192.0.2.10') ?? new Uint8Array();
    assert.ok(compareAddressBytes(a, b) < 0 && compareAddressBytes(b, a) > 0 && compareAddressBytes(a, a) === 0);
  });

  it('parses prefixes and refuses impossible ones', () => {
    assert.deepEqual(parseCidr('192.0.2.50/24'), { family: 'ipv4', address: '192.0.2.50', prefixLength: 24 });
    assert.deepEqual(parseCidr('2001:DB8::50'), { family: 'ipv6', address: '2001:db8::50', prefixLength: 128 });
    for (const bad of ['192.0.2.50/33', '192.0.2.50/', '2001:db8::1/129', 'x/24', '192.0.2.1/024']) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
  });
});
