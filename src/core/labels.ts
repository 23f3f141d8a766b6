/** Words for the verdict vocabulary, as a report shows them to a person. */
const CLASSIFICATION_LABELS: Readonly<Record<string, string>> = {
  'exchange-online': 'Exchange Online',
  'exchange-onprem': 'on-premises Exchange',
  hybrid: 'hybrid Exchange',
  'google-workspace': 'Google Workspace',
  'other-hosted': 'another hosted provider',
  'self-hosted': 'an own mail server (not Exchange)',
  unknown: 'unknown',
  'no-mail': 'no mail',
  unresolved: 'unresolved (DNS failed)',
  invalid: 'invalid input',
};

/** A classification in words; an unknown value is shown as it is. */
export function classificationLabel(c: string): string {
  return CLASSIFICATION_LABELS[c] ?? c;
}

/** `1 domain`, `3 domains`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
