import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSentinelConf, splitArgs } from './parse.js';

describe('sentinel.conf reader', () => {
  it('splits words as Redis does: blanks, double quotes with escapes, single quotes', () => {
    assert.deepEqual(splitArgs('sentinel monitor mymaster 192.0.2.11 6379 2'), ['sentinel', 'monitor', 'mymaster', '192.0.2.11', '6379', '2']);
    assert.deepEqual(splitArgs('  logfile   "/var/log/redis/a b.log"  '), ['logfile', '/var/log/redis/a b.log']);
    assert.deepEqual(splitArgs('x "a\\tb\\n\\"c\\\\" \'it\\\'s\''), ['x', 'a\tb\n"c\\', "it's"]);
    // \xHH is a byte; the bytes of a word are read back as UTF-8.
    assert.deepEqual(splitArgs('x "\\x41\\xc3\\xa9"'), ['x', 'Aé']);
    // A quote may start inside a word; an empty pair of quotes is an empty word.
    assert.deepEqual(splitArgs('a"b c" ""'), ['ab c', '']);
    // Backslashes outside quotes are ordinary characters.
    assert.deepEqual(splitArgs('dir C:\\x41'), ['dir', 'C:\\x41']);
  });

  it('refuses the lines Redis refuses: a quote not closed, or closed and followed by more of the word', () => {
    assert.equal(splitArgs('requirepass "abc'), undefined);
    assert.equal(splitArgs("requirepass 'abc"), undefined);
    assert.equal(splitArgs('requirepass "abc"def'), undefined);
    assert.equal(splitArgs("requirepass 'abc'def"), undefined);
  });

  it('reads directives with their lines, lower-cases the directive, skips blanks and comments', () => {
    const doc = parseSentinelConf(['# a comment', '', 'PORT 26379\r', '   # indented comment', 'SENTINEL Monitor m 192.0.2.11 6379 2', 'requirepass "x', 'port 1 # not a comment'].join('\n'));
    assert.deepEqual(
      doc.directives.map((d) => [d.line, d.name, d.args]),
      [
        [3, 'port', ['26379']],
        [5, 'sentinel', ['Monitor', 'm', '192.0.2.11', '6379', '2']],
        [7, 'port', ['1', '#', 'not', 'a', 'comment']],
      ],
    );
    assert.deepEqual(doc.warnings, [{ line: 6, message: 'the quotes of this line do not balance (Redis refuses to start with it): left out' }]);
  });
});
