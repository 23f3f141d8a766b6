/**
 * What changed between two scans of a portfolio: domains added and removed,
 * and each change of classification, on-prem Exchange, gateway, tenant and
 * patch state. Pure: the records come in, the changes go out.
 */
import { patchStatus } from './attention.js';
import { classificationLabel, plural } from './labels.js';
import { recordKey } from './result-record.js';
import type { OptionalColumn, ResultRecord } from './result-record.js';

export type ChangeKind =
  | 'added'
  | 'removed'
  | 'classification'
  | 'onprem_exchange'
  | 'gateway'
  | 'tenant'
  | 'patch';

/** One change of one domain. */
export interface Change {
  domain: string;
  /** The grouping column's value (e.g. the client), '' without one. */
  group: string;
  change: ChangeKind;
  /** The column that changed (for `patch`, the probe column). */
  field: string;
  old: string;
  new: string;
}

/** The columns of `diff`'s output, in order. */
export const CHANGE_COLUMNS = [
  'domain',
  'group',
  'change',
  'field',
  'old',
  'new',
] as const;

const PATCH_COLUMNS: readonly OptionalColumn[] = [
  'exchange_build',
  'proxylogon',
  'proxyshell',
  'proxynotshell',
  'exchange_support',
  'exchange_current',
];

/** A scan's rows, as `diffScans` compares them. */
export interface ScanRows {
  records: readonly ResultRecord[];
}

function byKey(records: readonly ResultRecord[]): Map<string, ResultRecord> {
  const m = new Map<string, ResultRecord>();
  // A domain listed twice (two clients share it) was scanned once: the first
  // row stands for it.
  for (const r of records) if (!m.has(recordKey(r))) m.set(recordKey(r), r);
  return m;
}

/** The optional columns some row of the scan has a value in. */
function written(records: readonly ResultRecord[]): Set<OptionalColumn> {
  const s = new Set<OptionalColumn>();
  for (const r of records) {
    for (const [c, v] of Object.entries(r.extra)) {
      if (v) s.add(c as OptionalColumn);
    }
  }
  return s;
}

/**
 * The changes from `older` to `newer`, in the newer scan's row order
 * (removed domains last, in the older scan's order). An optional column
 * (`onprem_exchange`, the probe's) is compared only when both scans wrote
 * it: a scan made before the column existed is not a change.
 */
export function diffScans(
  older: readonly ResultRecord[],
  newer: readonly ResultRecord[],
  group: string | null = null,
): Change[] {
  const before = byKey(older);
  const after = byKey(newer);
  const both = written(older);
  const cols = written(newer);
  for (const c of [...both]) if (!cols.has(c)) both.delete(c);
  const groupOf = (r: ResultRecord): string =>
    group === null ? '' : (r.input[group] ?? '');
  const out: Change[] = [];
  for (const [key, n] of after) {
    const change = (kind: ChangeKind, field: string, o: string, v: string) =>
      out.push({
        domain: key,
        group: groupOf(n),
        change: kind,
        field,
        old: o,
        new: v,
      });
    const o = before.get(key);
    if (!o) {
      change('added', 'classification', '', n.classification);
      continue;
    }
    if (o.classification !== n.classification)
      change(
        'classification',
        'classification',
        o.classification,
        n.classification,
      );
    if (
      both.has('onprem_exchange') &&
      o.extra.onprem_exchange !== n.extra.onprem_exchange
    )
      change(
        'onprem_exchange',
        'onprem_exchange',
        o.extra.onprem_exchange,
        n.extra.onprem_exchange,
      );
    if (o.gateway !== n.gateway)
      change('gateway', 'gateway', o.gateway, n.gateway);
    if (o.tenant !== n.tenant) change('tenant', 'tenant', o.tenant, n.tenant);
    for (const c of PATCH_COLUMNS) {
      if (both.has(c) && o.extra[c] !== n.extra[c])
        change('patch', c, o.extra[c], n.extra[c]);
    }
  }
  for (const [key, o] of before) {
    if (after.has(key)) continue;
    out.push({
      domain: key,
      group: groupOf(o),
      change: 'removed',
      field: 'classification',
      old: o.classification,
      new: '',
    });
  }
  return out;
}

const ONPREM_SEEN = new Set(['confirmed', 'likely', 'possible']);

/**
 * A few lines saying what changed, for a person: "3 clients moved to
 * Exchange Online", "1 new on-prem server". Counts clients when a grouping
 * column is given (each client once per line), else domains.
 */
export function summariseChanges(
  changes: readonly Change[],
  older: readonly ResultRecord[],
  newer: readonly ResultRecord[],
  group: string | null = null,
): string[] {
  const unit = group === null ? 'domain' : 'client';
  const count = (cs: readonly Change[]): number =>
    group === null
      ? new Set(cs.map((c) => c.domain)).size
      : new Set(cs.map((c) => c.group)).size;
  const lines: string[] = [];
  const of = (k: ChangeKind) => changes.filter((c) => c.change === k);
  const added = of('added');
  const removed = of('removed');
  if (added.length) lines.push(`${plural(added.length, 'domain')} added`);
  if (removed.length) lines.push(`${plural(removed.length, 'domain')} removed`);

  const moves = new Map<string, Change[]>();
  for (const c of of('classification')) {
    moves.set(c.new, [...(moves.get(c.new) ?? []), c]);
  }
  for (const [to, cs] of [...moves].sort((a, b) => b[1].length - a[1].length)) {
    const from = [...new Set(cs.map((c) => classificationLabel(c.old)))];
    lines.push(
      `${plural(count(cs), unit)} moved to ${classificationLabel(to)} (from ${from.join(', ')})`,
    );
  }

  const onprem = of('onprem_exchange');
  const appeared = onprem.filter(
    (c) => ONPREM_SEEN.has(c.new) && !ONPREM_SEEN.has(c.old),
  );
  const gone = onprem.filter(
    (c) => !ONPREM_SEEN.has(c.new) && ONPREM_SEEN.has(c.old),
  );
  if (appeared.length)
    lines.push(
      `${appeared.length} new on-prem server${appeared.length === 1 ? '' : 's'} (onprem_exchange now ${[...new Set(appeared.map((c) => c.new))].join('/')})`,
    );
  if (gone.length)
    lines.push(`${plural(gone.length, 'on-prem server')} no longer seen`);

  const gw = of('gateway');
  if (gw.length) lines.push(`${plural(count(gw), unit)} changed gateway`);
  const tenant = of('tenant');
  if (tenant.length)
    lines.push(`${plural(count(tenant), unit)} changed tenant`);

  const patch = of('patch');
  if (patch.length) {
    const before = new Map(older.map((r) => [recordKey(r), patchStatus(r)]));
    const changed = new Set(patch.map((c) => c.domain));
    const moved = new Map<string, number>();
    for (const r of newer) {
      const key = recordKey(r);
      if (!changed.has(key)) continue;
      const now = patchStatus(r);
      if (now === before.get(key)) continue;
      moved.set(now, (moved.get(now) ?? 0) + 1);
    }
    const parts = [...moved].map(([s, n]) => `${n} now ${s || 'not probed'}`);
    lines.push(
      `${plural(changed.size, 'Exchange server')} changed build or patch state${parts.length ? ` (${parts.join(', ')})` : ''}`,
    );
  }
  if (lines.length === 0) lines.push('no changes');
  return lines;
}
