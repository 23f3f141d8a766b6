/**
 * Turns node:util `parseArgs` errors into one line a person can act on: the
 * flag as typed, the closest valid flag ("did you mean --resolver?") and the
 * command's own help.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { safeText } from '../core/untrusted-text.js';

type Spec = NonNullable<ParseArgsConfig['options']>;

/**
 * The one-line message for an error `parseArgs` threw on `argv`. `command`
 * names the help to point at (`scan` → `see exoscope scan --help`).
 */
export function parseErrorMessage(
  err: unknown,
  argv: readonly string[],
  spec: Spec,
  command: string,
): string {
  const help = `see exoscope ${command} --help`;
  const code = (err as { code?: unknown }).code;
  const token = offendingToken(argv, spec);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && token) {
    const flag = safeText(token.rawName, 80);
    const guess = closestFlag(token, spec);
    return `unknown option ${flag}${guess ? ` (did you mean ${guess}?)` : ''}; ${help}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && token) {
    const name = `--${token.name}`;
    const option = spec[token.name];
    if (option?.type === 'boolean') {
      return `${name} takes no value; ${help}`;
    }
    if (token.value !== undefined && token.value.startsWith('-')) {
      return `${name} needs a value, got the option ${safeText(token.value, 80)} (for a value that starts with '-', write ${name}=VALUE); ${help}`;
    }
    return `${name} needs a value; ${help}`;
  }
  const first =
    err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
  return `${safeText(first, 200)}; ${help}`;
}

interface OptionToken {
  name: string;
  rawName: string;
  value: string | undefined;
}

/**
 * The first option token that strict parsing refuses: an unknown name, a
 * boolean with a value, or a string option whose value is missing or looks
 * like another option.
 */
function offendingToken(
  argv: readonly string[],
  spec: Spec,
): OptionToken | undefined {
  let tokens;
  try {
    ({ tokens } = parseArgs({
      args: [...argv],
      options: spec,
      allowPositionals: true,
      strict: false,
      tokens: true,
    }));
  } catch {
    return undefined;
  }
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const option = spec[t.name];
    const value = t.value ?? undefined;
    if (
      option === undefined ||
      (option.type === 'boolean' && value !== undefined) ||
      (option.type === 'string' &&
        (value === undefined || (!t.inlineValue && value.startsWith('-'))))
    ) {
      return { name: t.name, rawName: t.rawName, value };
    }
  }
  return undefined;
}

/**
 * The valid long flag nearest to an unknown one: a unique flag it is the
 * start of (`--conc`), else the one fewest edits away (a swap of two
 * neighbouring letters counts as one), if close enough to be a typo.
 */
function closestFlag(token: OptionToken, spec: Spec): string | undefined {
  const typed = token.name.toLowerCase();
  const names = Object.keys(spec);
  // A short flag is one letter: no typo to guess from.
  if (!token.rawName.startsWith('--')) return undefined;
  const starting = names.filter((n) => n.startsWith(typed));
  if (starting.length === 1) return `--${starting[0]}`;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = editDistance(typed, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  return best !== undefined && bestDistance <= allowed
    ? `--${best}`
    : undefined;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of two neighbouring characters each cost one.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/** The command nearest to an unknown one, if close enough to be a typo. */
export function closestWord(
  typed: string,
  words: readonly string[],
): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const word of words) {
    const d = editDistance(typed.toLowerCase(), word);
    if (d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  return bestDistance <= 2 ? best : undefined;
}
