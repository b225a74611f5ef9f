import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AF_INET,
  AF_INET6,
  IFA_F_NODAD,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  addAddressRequest,
  decodeAddress,
  decodeLink,
  decodeMessages,
  delAddressRequest,
  encodeMessage,
  errorCode,
  getLinksRequest,
} from './rtnetlink.js';

/** A route attribute as the kernel lays it out: length, type, value, padding to 4 bytes. */
function rta(type: number, value: readonly number[]): number[] {
  const len = 4 + value.length;
  const out = [len & 0xff, len >> 8, type & 0xff, type >> 8, ...value];
  while (out.length % 4 !== 0) out.push(0);
  return out;
}

const le32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

/** An RTM_NEWLINK for eth0 (index 2, UP|RUNNING|LOWER_UP) with its MAC, as `ip monitor` would see. */
function linkMessage(seq: number, flags: number): Uint8Array {
  const ifinfo = [0, 0, 1, 0, ...le32(2), ...le32(flags), ...le32(0)];
  const body = [...ifinfo, ...rta(3, [...Buffer.from('eth0'), 0]), ...rta(1, [2, 0, 0, 0, 0, 0x0b])];
  return encodeMessage(RTM_NEWLINK, NLM_F_MULTI, seq, new Uint8Array(body));
}

describe('rtnetlink codec', () => {
  it('lays out a dump request: header length, type, dump flags, sequence', () => {
    const m = getLinksRequest(7);
    const v = new DataView(m.buffer);
    assert.equal(v.getUint32(0, true), 32);
    assert.equal(v.getUint16(4, true), RTM_GETLINK);
    assert.equal(v.getUint16(6, true), NLM_F_REQUEST | NLM_F_DUMP);
    assert.equal(v.getUint32(8, true), 7);
  });

  it('decodes several messages from one datagram, then the end of the dump', () => {
    const done = encodeMessage(NLMSG_DONE, NLM_F_MULTI, 9, new Uint8Array(4));
    const data = new Uint8Array([...linkMessage(9, 0x1 | 0x40 | 0x10000), ...linkMessage(9, 0x1), ...done]);
    const msgs = decodeMessages(data);
    assert.deepEqual(msgs.map((m) => [m.type, m.seq]), [[RTM_NEWLINK, 9], [RTM_NEWLINK, 9], [NLMSG_DONE, 9]]);
    const up = decodeLink(msgs[0] as never);
    assert.equal(up?.name, 'eth0');
    assert.equal(up?.index, 2);
    assert.deepEqual([...(up?.mac ?? [])], [2, 0, 0, 0, 0, 0x0b]);
    assert.equal(up?.adminUp, true);
    assert.equal(up?.carrier, true);
    const noCarrier = decodeLink(msgs[1] as never);
    assert.equal(noCarrier?.adminUp, true);
    assert.equal(noCarrier?.carrier, false);
  });

  it('round-trips an address request into what a dump of it reads back', () => {
    const add = addAddressRequest(3, { family: AF_INET, prefixLength: 24, index: 2, address: new Uint8Array([192, 0, 2, 50]), label: 'eth0:vip' });
    const [m] = decodeMessages(add);
    assert.ok(m);
    assert.equal(m.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    // The kernel answers a dump with the same layout under RTM_NEWADDR.
    const a = decodeAddress({ ...m, type: RTM_NEWADDR });
    assert.deepEqual(a && { ...a, address: [...(a.address ?? [])] }, { family: AF_INET, prefixLength: 24, index: 2, address: [192, 0, 2, 50], label: 'eth0:vip' });
  });

  it('asks for no duplicate address detection on an IPv6 VIP', () => {
    const add = addAddressRequest(4, { family: AF_INET6, prefixLength: 64, index: 2, address: new Uint8Array(16).fill(0x20, 0, 1), nodad: true });
    assert.equal(add[16 + 2], IFA_F_NODAD);
    const del = delAddressRequest(5, { family: AF_INET6, prefixLength: 64, index: 2, address: new Uint8Array(16) });
    assert.equal(del[16 + 2], 0);
  });

  it('reads an acknowledgement as 0 and an error as its errno', () => {
    const ack = decodeMessages(encodeMessage(NLMSG_ERROR, 0, 1, new Uint8Array(le32(0))))[0];
    const eexist = decodeMessages(encodeMessage(NLMSG_ERROR, 0, 1, new Uint8Array(le32(-17 >>> 0))))[0];
    assert.equal(ack && errorCode(ack), 0);
    assert.equal(eexist && errorCode(eexist), 17);
  });

  it('never throws on truncated or corrupt input, and skips what it cannot read', () => {
    const good = linkMessage(1, 0x1);
    for (let n = 0; n <= good.length; n++) {
      const msgs = decodeMessages(good.subarray(0, n));
      assert.equal(msgs.length, n === good.length ? 1 : 0);
    }
    for (let i = 0; i < 2000; i++) {
      const bad = new Uint8Array(good);
      bad[(i * 7919) % bad.length] = (i * 31) & 0xff;
      for (const m of decodeMessages(bad)) {
        decodeLink(m);
        decodeAddress(m);
        errorCode(m);
      }
    }
  });
});
