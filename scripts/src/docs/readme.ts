// The README's configuration tables, made from the reference module and kept between markers.

import { CONFIG_INTRO, CONFIG_SECTIONS, type ConfigSectionDoc } from 'redkeep';

export const README_BEGIN = '<!-- config-reference:begin: generated from agent/src/config/reference.ts by `node scripts/dist/docs/gen-docs.js --readme README.md`; edit that file -->';
export const README_END = '<!-- config-reference:end -->';

function cell(markdown: string): string {
  return markdown.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
}

function paragraphs(markdown: string): string {
  return markdown
    .trim()
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .join('\n\n');
}

function sectionMarkdown(s: ConfigSectionDoc): string {
  const rows = s.keys.map((k) => `| \`${k.key}\` | ${cell(k.type)} | ${cell(k.default)} | ${cell(k.meaning)} |`);
  const parts = [`**\`${s.heading}\`**: ${cell(s.summary)}`, ['| key | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n')];
  if (s.notes !== undefined) parts.push(paragraphs(s.notes));
  return parts.join('\n\n');
}

/** What goes between the markers, the markers excluded. */
export function configReferenceMarkdown(): string {
  return [paragraphs(CONFIG_INTRO), ...CONFIG_SECTIONS.map(sectionMarkdown)].join('\n\n');
}

/** The README with the part between the markers made anew; throws when the markers are missing. */
export function withConfigReference(readme: string): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error(`the README has no ${README_BEGIN} ... ${README_END} markers`);
  return `${readme.slice(0, begin + README_BEGIN.length)}\n\n${configReferenceMarkdown()}\n\n${readme.slice(end)}`;
}
