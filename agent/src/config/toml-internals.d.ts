// The toml package's parser and compiler, which its index.js runs in turn (toml is pinned to
// 5.0.1: locate.ts reads the offsets its syntax nodes carry).

declare module 'toml/lib/parser.js' {
  /** A statement: `[a.b]`, `[[a.b]]` or `key = value` (key is dotted: one string per part). */
  export interface TomlStatement {
    readonly type: 'ObjectPath' | 'ArrayPath' | 'Assign';
    readonly offset: number;
    readonly key?: string | readonly string[];
    readonly value: unknown;
  }
  /** A value; Array holds values, InlineTable holds InlineTableValue nodes (key, value, offset). */
  export interface TomlValueNode {
    readonly type: string;
    readonly offset: number;
    readonly value: unknown;
    readonly key?: string | readonly string[];
  }
  /** Throws a SyntaxError with location.start.{line,column}. */
  export function parse(text: string): TomlStatement[];
  const parser: { parse: typeof parse };
  export default parser;
}

declare module 'toml/lib/compiler.js' {
  import type { TomlStatement } from 'toml/lib/parser.js';
  /** Throws an Error with line and column when a key or table is defined twice. */
  export function compile(nodes: readonly TomlStatement[], text: string): unknown;
  const compiler: { compile: typeof compile };
  export default compiler;
}
