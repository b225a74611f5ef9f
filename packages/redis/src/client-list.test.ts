import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientLocalAddresses } from './client-list.js';

const LIST = [
  'id=3 addr=127.0.0.1:43086 laddr=127.0.0.1:6379 fd=8 name=redkeep-redis-write age=12 idle=0 flags=N db=0 sub=0',
  'id=7 addr=192.0.2.100:50412 laddr=192.0.2.50:6379 fd=9 name= age=3 idle=0 flags=N db=0 sub=0',
  'id=8 addr=192.0.2.100:50414 laddr=192.0.2.50:6379 fd=10 name= age=3 idle=0 flags=P db=0 sub=1',
  'id=9 addr=192.0.2.12:6379 laddr=192.0.2.50:6379 fd=11 name= age=1 idle=0 flags=S db=0 sub=0',
  'id=10 addr=[2001:db8::100]:50000 laddr=[2001:db8::50]:6379 fd=12 name= age=1 idle=0 flags=N db=0 sub=0',
  'id=11 addr=192.0.2.12:40000 laddr=192.0.2.13:6379 fd=13 name=redkeep-redis-write-peer age=1 idle=0 flags=N db=0 sub=0',
].join('\n');

describe('clientLocalAddresses', () => {
  it('names the local addresses of connections made to the VIPs, once each, not replicas nor ours', () => {
    assert.deepEqual(clientLocalAddresses(LIST, ['192.0.2.50']), ['192.0.2.50:6379']);
    assert.deepEqual(clientLocalAddresses(LIST, ['2001:db8::50']), ['[2001:db8::50]:6379']);
    assert.deepEqual(clientLocalAddresses(LIST, ['192.0.2.99']), []);
    assert.deepEqual(clientLocalAddresses('', ['192.0.2.50']), []);
  });

  it('compares addresses in their canonical form when told how', () => {
    assert.deepEqual(clientLocalAddresses(LIST, ['2001:DB8:0::50'], (ip) => ip.toLowerCase().replace(':0::', '::')), ['[2001:db8::50]:6379']);
  });
});
