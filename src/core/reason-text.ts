import { RULES, STATUS_RULES } from './classify.js';
import { DERIVED_SIGNALS } from './classification-doc.js';
import {
  AUTODISCOVER_SIGNATURES,
  DKIM_PATTERNS,
  MX_SIGNATURES,
  SERVICE_SIGNATURES,
  SPF_SIGNATURES,
} from './signatures.js';

let table: Map<string, string> | null = null;

/** Every rule and signal id the classifier can write, with its description. */
function descriptions(): Map<string, string> {
  if (table) return table;
  table = new Map<string, string>();
  for (const list of [
    RULES,
    Object.values(STATUS_RULES),
    MX_SIGNATURES,
    AUTODISCOVER_SIGNATURES,
    SPF_SIGNATURES,
    DKIM_PATTERNS,
    SERVICE_SIGNATURES,
    DERIVED_SIGNALS,
  ]) {
    for (const { id, description } of list) table.set(id, description);
  }
  return table;
}

/**
 * A reason id in words: the description of the rule or signal, or the id
 * itself for one this version does not know (a newer scan's, or text from a
 * hand-edited file).
 */
export function reasonText(id: string): string {
  return descriptions().get(id) ?? id;
}
