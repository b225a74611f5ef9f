import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisHosts, isLinkLocal, sameRedisHost, splitZone } from './redis-hosts.js';

const MEMBERS = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];
const MAPPED = { '192.0.2.11': '198.51.100.11', '192.0.2.12': '198.51.100.12', '192.0.2.13': '198.51.100.13' };

describe('where a member\'s Redis is reached', () => {
  it('is the member\'s advert address without peer_addresses', () => {
    const h = new RedisHosts({ members: MEMBERS, zone: 'eth0' });
    assert.equal(h.hostOf('192.0.2.12'), '192.0.2.12');
    assert.equal(h.knows('192.0.2.99'), true, 'without the map every address is its own');
  });

  it('is its peer_addresses entry, looked up by the canonical advert address', () => {
    const h = new RedisHosts({ members: ['2001:db8::b', '2001:db8::c'], peerAddresses: { '2001:db8::b': '198.51.100.11', '2001:db8::c': '2001:db8:1::c' } });
    assert.equal(h.hostOf('2001:DB8:0::B'), '198.51.100.11');
    assert.equal(h.hostOf('2001:db8::c'), '2001:db8:1::c');
    assert.equal(h.knows('2001:db8::b'), true);
    assert.equal(h.knows('2001:db8::d'), false, 'an advert source the map does not list');
  });

  it('gives a link-local address the instance\'s interface as its zone, unless it names one', () => {
    const h = new RedisHosts({ members: ['fe80::1', 'fe80::2'], peerAddresses: { 'fe80::1': 'fe80::11%eth1', 'fe80::2': 'fe80::2' }, zone: 'eth0' });
    assert.equal(h.hostOf('fe80::1'), 'fe80::11%eth1');
    assert.equal(h.hostOf('fe80::2'), 'fe80::2%eth0');
    assert.equal(new RedisHosts({ members: ['fe80::1'], zone: 'eth0' }).hostOf('FE80::1'), 'fe80::1%eth0');
    assert.equal(new RedisHosts({ members: ['2001:db8::1'], zone: 'eth0' }).hostOf('2001:db8::1'), '2001:db8::1', 'a global address takes no zone');
  });

  it('compares INFO\'s master_host and a master\'s replica list with the mapped address, zones in mind', () => {
    const h = new RedisHosts({ members: MEMBERS, peerAddresses: MAPPED });
    assert.equal(h.isAt('198.51.100.12', '192.0.2.12'), true);
    assert.equal(h.isAt('192.0.2.12', '192.0.2.12'), false, 'its advert address is not where its Redis is');
    assert.equal(h.isAt(undefined, '192.0.2.12'), false);
    assert.equal(h.isAt('198.51.100.12', undefined), false);
    const ll = new RedisHosts({ members: ['fe80::1'], zone: 'eth0' });
    assert.equal(ll.isAt('fe80::1%eth0', 'fe80::1'), true, 'REPLICAOF was given the zone, INFO says it back');
    assert.equal(ll.isAt('fe80::1', 'fe80::1'), true, 'a master lists its replicas without one');
    assert.equal(ll.isAt('fe80::1%eth1', 'fe80::1'), false, 'another interface');
  });

  it('names a configured member for an address from INFO, never the address itself', () => {
    const h = new RedisHosts({ members: MEMBERS, peerAddresses: MAPPED });
    assert.equal(h.memberAt('198.51.100.13'), '192.0.2.13');
    assert.equal(h.memberAt('192.0.2.13'), undefined, 'an advert address is no Redis address when the map says otherwise');
    assert.equal(h.memberAt('198.51.100.99'), undefined, 'nobody maps to it');
    assert.equal(h.memberAt(undefined), undefined);
    assert.equal(new RedisHosts({ members: MEMBERS }).memberAt('192.0.2.11'), '192.0.2.11');
    assert.equal(new RedisHosts({ members: MEMBERS }).memberAt('192.0.2.14'), undefined, 'not a member');
  });

  it('splits and recognises zones and link-local addresses', () => {
    assert.deepEqual(splitZone('FE80::0:1%eth0'), { address: 'fe80::1', zone: 'eth0' });
    assert.deepEqual(splitZone('192.0.2.1'), { address: '192.0.2.1', zone: undefined });
    assert.equal(isLinkLocal('fe80::1'), true);
    assert.equal(isLinkLocal('febf::1'), true);
    assert.equal(isLinkLocal('fec0::1'), false);
    assert.equal(isLinkLocal('192.0.2.1'), false);
    assert.equal(sameRedisHost('2001:db8::1', '2001:DB8:0::1'), true);
    assert.equal(sameRedisHost('127.0.0.1', '127.0.0.2'), false);
  });
});
