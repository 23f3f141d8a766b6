/**
 * Everything DNS returns is untrusted text: a TXT record can be 64 KiB of
 * control characters. These helpers cap and escape it before it reaches the
 * evidence, the CSV or a terminal.
 */

/** Longest single record text kept in the evidence. */
export const MAX_RECORD_CHARS = 4096;
/** Most records of one answer kept in the evidence. */
export const MAX_RECORDS = 64;

// C0 and C1 controls, DEL, the Unicode line/paragraph separators, and the
// invisible format characters (zero-width, bidi marks, overrides and
// isolates, BOM, interlinear annotation) that can disguise text in a
// terminal or spreadsheet.
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]/g;

/** Replaces control characters with visible `\xNN` / `\uNNNN` escapes. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Cuts `text` to at most `max` characters, marking the cut with `…[+N]`. */
export function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never cut a surrogate pair in two: half of one is not text.
  const cut = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, cut)}…[+${text.length - cut}]`;
}

/** Escapes and caps one piece of DNS text for display. */
export function safeText(text: string, max = 255): string {
  return cap(escapeControls(text), max);
}
