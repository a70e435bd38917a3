/** Column layout for the text table and GitHub-flavoured markdown. */
import { escapeControls, escapeHtmlText } from './safe-text.js';

/** Code points, so sparklines and non-ASCII names line up (no wide-character handling). */
const width = (text: string): number => [...text].length;

/** Left-aligns the first column, right-aligns the others (numbers). */
export function textGrid(
  headers: readonly string[],
  untrustedRows: readonly string[][],
  indent = '  ',
): string {
  const rows = untrustedRows.map((r) => r.map(escapeControls));
  const widths = headers.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const line = (cells: readonly string[]): string =>
    indent +
    cells
      .map((cell, c) => {
        const pad = ' '.repeat((widths[c] as number) - width(cell));
        return c === 0 || c === cells.length - 1 ? cell + pad : pad + cell;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function escapeMarkdown(cell: string): string {
  const text = cell.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return escapeHtmlText(escapeControls(text));
}

export function markdownGrid(headers: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  const rule = `|${headers.map((_, c) => (c === 0 ? ' --- ' : ' ---: ')).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
