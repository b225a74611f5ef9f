import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type KeepalivedNode, parseKeepalived, splitScript } from './parse.js';

const VECTORS = fileURLToPath(new URL('../../../test/vectors/keepalived-2.2.7', import.meta.url));

/** The first node with this keyword, searching depth first. */
function find(nodes: readonly KeepalivedNode[], keyword: string): KeepalivedNode | undefined {
  for (const n of nodes) {
    if (n.keyword === keyword) return n;
    const inner = n.block ? find(n.block, keyword) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

function get(nodes: readonly KeepalivedNode[], keyword: string): KeepalivedNode {
  const n = find(nodes, keyword);
  assert.ok(n, `no ${keyword}`);
  return n;
}

describe('keepalived.conf parser', () => {
  it('reads statements and nested blocks, each with its 1-based line', () => {
    const doc = parseKeepalived(['global_defs {', '  router_id lb1', '}', '', 'vrrp_instance VI_1 {', '  virtual_ipaddress {', '    192.0.2.1/24 dev eth0', '  }', '}'].join('\n'));
    assert.deepEqual(doc.warnings, []);
    assert.deepEqual(doc.nodes.map((n) => [n.keyword, n.line, n.endLine]), [
      ['global_defs', 1, 3],
      ['vrrp_instance', 5, 9],
    ]);
    assert.deepEqual(get(doc.nodes, 'router_id').args, ['lb1']);
    assert.equal(get(doc.nodes, 'router_id').line, 2);
    const vip = get(doc.nodes, 'virtual_ipaddress').block?.[0];
    assert.deepEqual([vip?.keyword, vip?.args, vip?.line], ['192.0.2.1/24', ['dev', 'eth0'], 7]);
  });

  it('reads the compact one-line blocks of the keepalived 2.2.7 vector configs', () => {
    const doc = parseKeepalived(readFileSync(join(VECTORS, 'v2-pass-mcast.conf'), 'utf8'));
    assert.deepEqual(doc.warnings, []);
    assert.deepEqual(doc.nodes.map((n) => n.keyword), ['global_defs', 'vrrp_instance']);
    assert.deepEqual(get(doc.nodes, 'router_id').args, ['vec']);
    const inst = get(doc.nodes, 'vrrp_instance');
    assert.deepEqual(inst.block?.map((n) => [n.keyword, n.line]), [
      ['state', 2],
      ['interface', 3],
      ['virtual_router_id', 4],
      ['priority', 5],
      ['advert_int', 6],
      ['authentication', 7],
      ['virtual_ipaddress', 9],
    ]);
    assert.deepEqual(get(doc.nodes, 'virtual_ipaddress').block?.map((n) => [n.keyword, n.line]), [
      ['192.0.2.50/24', 9],
      ['192.0.2.51/24', 10],
    ]);
    assert.equal(inst.endLine, 10);
  });

  it('parses every vector config without a warning', () => {
    const files = readdirSync(VECTORS).filter((f) => f.endsWith('.conf'));
    assert.ok(files.length >= 4);
    for (const f of files) assert.deepEqual(parseKeepalived(readFileSync(join(VECTORS, f), 'utf8')).warnings, [], f);
  });

  it('drops # and ! comments anywhere outside quotes, even inside a word', () => {
    const doc = parseKeepalived(['! a comment', '# another', 'a b # c d', 'e f! g', 'h i#j', 'k "l # m ! n" o'].join('\n'));
    assert.deepEqual(doc.nodes.map((n) => [n.keyword, ...n.args]), [
      ['a', 'b'],
      ['e', 'f'],
      ['h', 'i'],
      ['k', 'l # m ! n', 'o'],
    ]);
    assert.deepEqual(doc.nodes.map((n) => n.line), [3, 4, 5, 6]);
  });

  it('reads quoted strings: both quote kinds, quotes inside a word, shell escapes', () => {
    const doc = parseKeepalived(String.raw`x "a b" 'c "d"' e"f g"h "t\tu\x41\101\"" ""`);
    const x = get(doc.nodes, 'x');
    assert.deepEqual(x.args, ['a b', 'c "d"', 'ef gh', 't\tuAA"', '']);
    assert.deepEqual(x.words.map((w) => w.quoted), [false, true, true, true, true, true]);
  });

  it('takes { and } as tokens without spaces around them', () => {
    const doc = parseKeepalived('track_script {chk_a}\nx{y}');
    assert.deepEqual(get(doc.nodes, 'track_script').block?.map((n) => n.keyword), ['chk_a']);
    assert.deepEqual(get(doc.nodes, 'x').block?.map((n) => n.keyword), ['y']);
    assert.deepEqual(doc.warnings, []);
  });

  it('gives a brace on a line of its own to the statement before it', () => {
    const doc = parseKeepalived('vrrp_instance VI_1\n{\n  priority 50\n}\n');
    const inst = get(doc.nodes, 'vrrp_instance');
    assert.deepEqual(inst.block?.map((n) => [n.keyword, n.line]), [['priority', 3]]);
    assert.deepEqual(doc.warnings, []);
  });

  it('reports include lines, with their line, and does not follow them', () => {
    const doc = parseKeepalived('global_defs {\n}\ninclude /etc/keepalived/conf.d/*.conf\nvrrp_instance A {\n  includer extra.conf\n}\n');
    assert.deepEqual(doc.nodes.map((n) => n.keyword), ['global_defs', 'vrrp_instance']);
    assert.deepEqual(get(doc.nodes, 'vrrp_instance').block, []);
    assert.deepEqual(doc.warnings.map((w) => w.line), [3, 5]);
    assert.match(doc.warnings[0]?.message ?? '', /include "\/etc\/keepalived\/conf\.d\/\*\.conf" is not followed/);
    assert.match(doc.warnings[1]?.message ?? '', /includer "extra\.conf" is not followed/);
  });

  it('warns about a } without a {, with its line, and goes on', () => {
    const doc = parseKeepalived('a {\n  b\n}\n}\nc\n');
    assert.deepEqual(doc.nodes.map((n) => n.keyword), ['a', 'c']);
    assert.deepEqual(doc.warnings.map((w) => w.line), [4]);
    assert.match(doc.warnings[0]?.message ?? '', /'}' has no matching '{'/);
  });

  it('warns about a block that is never closed, at the line that opened it', () => {
    const doc = parseKeepalived('vrrp_instance A {\n  priority 1\n  virtual_ipaddress {\n    192.0.2.1\n');
    assert.deepEqual(doc.warnings.map((w) => w.line), [1, 3]);
    assert.match(doc.warnings[0]?.message ?? '', /"vrrp_instance" opened on line 1 is not closed/);
    // What was read is kept.
    assert.deepEqual(get(doc.nodes, 'virtual_ipaddress').block?.map((n) => n.keyword), ['192.0.2.1']);
    assert.equal(get(doc.nodes, 'vrrp_instance').endLine, 5);
  });

  it('warns about a { with no keyword before it and keeps its contents', () => {
    const doc = parseKeepalived('{\n  a 1\n}\n');
    assert.deepEqual(doc.nodes.map((n) => n.keyword), ['a']);
    assert.deepEqual(doc.warnings.map((w) => w.line), [1]);
  });

  it('warns about an unterminated quote and takes the rest of the line', () => {
    const doc = parseKeepalived('script "/bin/check x\nnext 1\n');
    assert.deepEqual(get(doc.nodes, 'script').args, ['/bin/check x']);
    assert.deepEqual(get(doc.nodes, 'next').args, ['1']);
    assert.deepEqual(doc.warnings.map((w) => w.line), [1]);
  });

  it('expands single-line parameters ($NAME before a space, ${NAME} anywhere) and leaves unknown ones', () => {
    const doc = parseKeepalived(['$PRIO=150', '$NET=192.0.2', 'priority $PRIO', 'vip ${NET}.10/24', 'script "$HOME/x ${UNSET}"', 'hash ${_HASH}1'].join('\n'));
    assert.deepEqual(doc.nodes.map((n) => [n.keyword, ...n.args]), [
      ['priority', '150'],
      ['vip', '192.0.2.10/24'],
      ['script', '$HOME/x ${UNSET}'],
      ['hash', '#1'],
    ]);
    assert.deepEqual(doc.warnings, []);
  });

  it('skips a multi-line parameter definition with a warning', () => {
    const doc = parseKeepalived(['$BLOCK= \\', '  priority 1 \\', '  advert_int 2', 'after 1'].join('\n'));
    assert.deepEqual(doc.nodes.map((n) => n.keyword), ['after']);
    assert.deepEqual(doc.warnings.map((w) => w.line), [1]);
  });

  it('skips @id conditional lines with a warning when no config id is given', () => {
    const doc = parseKeepalived('@main priority 200\n@^main priority 100\npriority 50\n');
    assert.deepEqual(doc.nodes.map((n) => [n.keyword, ...n.args]), [['priority', '50']]);
    assert.deepEqual(doc.warnings.map((w) => w.line), [1, 2]);
    assert.match(doc.warnings[0]?.message ?? '', /conditional line \("@main"\) is skipped/);
  });

  it('keeps the @id lines of the given config id and drops the others', () => {
    const text = '@main priority 200\n@backup priority 100\n@^main weight 1\n@^backup weight 2\n';
    const main = parseKeepalived(text, { configId: 'main' });
    assert.deepEqual(main.nodes.map((n) => [n.keyword, ...n.args, n.line]), [
      ['priority', '200', 1],
      ['weight', '2', 4],
    ]);
    assert.deepEqual(main.warnings, []);
  });

  it('skips ~SEQ lines with a warning', () => {
    const doc = parseKeepalived('~SEQ(N, 1, 3) vip 192.0.2.${N}\nok 1\n');
    assert.deepEqual(doc.nodes.map((n) => n.keyword), ['ok']);
    assert.deepEqual(doc.warnings.map((w) => w.line), [1]);
  });

  it('reads CRLF line endings and a byte-order mark', () => {
    const doc = parseKeepalived('\uFEFFa {\r\n  b 1\r\n}\r\nc 2\r\n');
    assert.deepEqual(doc.nodes.map((n) => [n.keyword, n.line]), [
      ['a', 1],
      ['c', 4],
    ]);
    assert.deepEqual(get(doc.nodes, 'b').args, ['1']);
  });

  it('never throws, and every warning has a line of the text, whatever the input', () => {
    const seeds = readdirSync(VECTORS)
      .filter((f) => f.endsWith('.conf'))
      .map((f) => readFileSync(join(VECTORS, f), 'utf8'));
    const pieces = ['{', '}', '"', "'", '\\', '#', '!', '\n', '@x ', '$A=1\n', '${A}', '$A', '~SEQ', 'include', '\u0000', '\r'];
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      let t = seeds[rnd(seeds.length)] ?? '';
      for (let k = 1 + rnd(5); k > 0; k--) {
        const at = rnd(t.length + 1);
        t = rnd(2) === 0 ? t.slice(0, at) + t.slice(at + 1 + rnd(10)) : t.slice(0, at) + (pieces[rnd(pieces.length)] ?? '') + t.slice(at);
      }
      const lines = t.replace(/^\uFEFF/, '').split(/\r?\n/).length;
      const doc = parseKeepalived(t);
      for (const w of doc.warnings) assert.ok(w.line >= 1 && w.line <= lines, `warning on line ${w.line} of ${lines}: ${JSON.stringify(t)}`);
    }
  });
});

describe('keepalived script strings', () => {
  it('splits like keepalived: whitespace separates, single and double quotes group', () => {
    assert.deepEqual(splitScript(`/usr/bin/check -a 'b c' "d e"f`).argv, ['/usr/bin/check', '-a', 'b c', 'd ef']);
    assert.deepEqual(splitScript(`/bin/echo a'b c'd "it's"`).argv, ['/bin/echo', 'ab cd', "it's"]);
    assert.deepEqual(splitScript(`  x   ''  `).argv, ['x', '']);
  });

  it('notices shell syntax outside quotes only', () => {
    assert.equal(splitScript('redis-cli ping | grep -q PONG').shellSyntax, true);
    assert.equal(splitScript('test -f /x && exit 1').shellSyntax, true);
    assert.equal(splitScript('check $PORT').shellSyntax, true);
    assert.equal(splitScript('check > /dev/null').shellSyntax, true);
    assert.equal(splitScript(`/bin/sh -c 'redis-cli ping | grep -q PONG'`).shellSyntax, false);
    assert.equal(splitScript('check --cost 5$').shellSyntax, false);
    assert.equal(splitScript('/usr/bin/killall -0 redis-server').shellSyntax, false);
  });
});
