/**
 * What the HTML report shows, computed from the scan's records: counts for
 * the charts, the action list, the groups and how they are cut into pages.
 * Pure data; report-html.ts renders it.
 */
import { ATTENTION_KINDS, attention, patchStatus } from '../core/attention.js';
import type { Attention } from '../core/attention.js';
import type { ResultRecord } from '../core/result-record.js';

/** One count of a chart. */
export interface Count {
  label: string;
  value: number;
}

export interface Chart {
  id: string;
  title: string;
  counts: Count[];
}

/** A record with its index in the file (to find its evidence) and its page. */
export interface Entry {
  index: number;
  record: ResultRecord;
  attention: Attention | null;
  /** 0 = the main page. */
  page: number;
}

export interface Group {
  /** The client's name, or '' for the per-domain listing. */
  name: string;
  entries: Entry[];
}

export interface ReportModel {
  rows: number;
  charts: Chart[];
  actions: Entry[];
  groups: Group[];
  /** Pages after the main one (each a list of group slices). */
  pageCount: number;
}

function tally(values: Iterable<string>, empty: string): Count[] {
  const m = new Map<string, number>();
  for (const v of values) m.set(v || empty, (m.get(v || empty) ?? 0) + 1);
  return [...m]
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}

/** The summary charts: only those the scan has data for. */
export function charts(records: readonly ResultRecord[]): Chart[] {
  const out: Chart[] = [
    {
      id: 'classification',
      title: 'Classification',
      counts: tally(
        records.map((r) => r.classification),
        '(none)',
      ),
    },
  ];
  if (records.some((r) => r.extra.onprem_exchange)) {
    out.push({
      id: 'onprem_exchange',
      title: 'On-premises Exchange server (onprem_exchange)',
      counts: tally(
        records.map((r) => r.extra.onprem_exchange),
        '(not written)',
      ),
    });
  }
  out.push({
    id: 'provider',
    title: 'Mail provider (primary MX)',
    counts: tally(
      records.map((r) => r.provider),
      '(none)',
    ),
  });
  out.push({
    id: 'gateway',
    title: 'Filtering gateway',
    counts: tally(
      records.map((r) => r.gateway),
      '(no gateway)',
    ),
  });
  const patch = records.map(patchStatus);
  if (patch.some(Boolean)) {
    out.push({
      id: 'patch',
      title: 'Patch status of probed Exchange servers',
      counts: tally(patch.filter(Boolean), ''),
    });
  }
  return out;
}

/**
 * Builds the model. With `group`, domains are listed per value of that input
 * column (clients sorted by name, rows without one last); else in row
 * order. More than `pageSize` rows: the listing moves to further pages,
 * cut between clients where a client fits.
 */
export function buildModel(
  records: readonly ResultRecord[],
  group: string | null,
  pageSize: number,
): ReportModel {
  const entries: Entry[] = records.map((record, index) => ({
    index,
    record,
    attention: attention(record),
    page: 0,
  }));
  let groups: Group[];
  if (group === null) {
    groups = [{ name: '', entries }];
  } else {
    const by = new Map<string, Entry[]>();
    for (const e of entries) {
      const k = e.record.input[group] ?? '';
      let list = by.get(k);
      if (!list) by.set(k, (list = []));
      list.push(e);
    }
    groups = [...by]
      .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
      .map(([name, list]) => ({ name, entries: list }));
  }
  let pageCount = 0;
  if (records.length > pageSize) {
    let page = 1;
    let used = 0;
    for (const g of groups) {
      if (used > 0 && used + g.entries.length > pageSize) {
        page++;
        used = 0;
      }
      for (const e of g.entries) {
        if (used >= pageSize) {
          page++;
          used = 0;
        }
        e.page = page;
        used++;
      }
    }
    pageCount = page;
  }
  const rank = (e: Entry): number =>
    e.attention ? ATTENTION_KINDS.indexOf(e.attention.kind) : 99;
  const actions = entries
    .filter((e) => e.attention !== null)
    .sort((a, b) => rank(a) - rank(b) || a.index - b.index);
  return {
    rows: records.length,
    charts: charts(records),
    actions,
    groups,
    pageCount,
  };
}
