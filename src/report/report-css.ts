/**
 * The report's only stylesheet, inline and allowed by its hash in the
 * Content-Security-Policy. It must hold no quote, angle bracket or
 * ampersand: it is rendered as escaped text, and must stay byte for byte
 * what was hashed (checked below).
 */
export const REPORT_CSS = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #f6f8fb; --accent: #2457c5; --warn: #b4232c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
h3 small { font-weight: normal; color: var(--muted); margin-left: 8px; }
h4 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.note { color: var(--muted); margin: 4px 0 12px; }
a { color: var(--accent); }
code, pre, .answer, td.domain { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--bg); padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; }
table.list { width: 100%; margin: 6px 0 12px; }
table.list th, table.list td, table.meta th, table.meta td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
table.actions { table-layout: fixed; }
table.actions th:first-child { width: 24%; }
table.actions th:nth-child(2):nth-last-child(3) { width: 14%; }
table.actions th:nth-last-child(2) { width: 17%; }
table.actions td.domain, table.actions td.client { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
details.action-kind { margin: 6px 0; }
details.action-kind summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
table.list thead th { background: var(--bg); font-size: 12px; color: var(--muted); }
table.meta th { width: 220px; color: var(--muted); font-weight: 600; }
td, th { word-break: break-word; }
.charts { display: grid; grid-template-columns: 1fr; gap: 16px; }
figure.chart { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 0 24px; margin: 0; padding: 12px 14px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
figcaption { flex-basis: 100%; font-weight: 600; margin-bottom: 8px; }
svg text { font-size: 12px; fill: var(--ink); }
svg text.num { font-weight: 600; }
.bar rect { fill: #7b8aa6; }
.k-exchange-online rect { fill: #2f6fdf; }
.k-exchange-onprem rect { fill: #c0392b; }
.k-hybrid rect { fill: #e08a1e; }
.k-google-workspace rect { fill: #2e9e5b; }
.k-other-hosted rect { fill: #7d5bbf; }
.k-self-hosted rect { fill: #8e6c4a; }
.k-unknown rect, .k-unresolved rect { fill: #9aa3b2; }
.k-no-mail rect, .k-invalid rect { fill: #c5cad3; }
.k-likely rect, .k-confirmed rect, .k-vulnerable rect, .k-out-of-support rect { fill: #c0392b; }
.k-possible rect, .k-outdated rect { fill: #e08a1e; }
.k-none-seen rect, .k-current rect { fill: #2e9e5b; }
table.counts { font-size: 12.5px; }
table.counts th { text-align: left; font-weight: normal; padding: 1px 12px 1px 0; }
table.counts td { text-align: right; padding: 1px 0 1px 12px; font-variant-numeric: tabular-nums; }
table.counts td.pct { color: var(--muted); }
.changes { background: #fffbea; border: 1px solid #f1dd8c; border-radius: 6px; padding: 4px 16px 8px; }
.changes h2 { border: 0; margin-top: 12px; }
.change-summary li { font-weight: 600; }
table.actions tr.a-vulnerable td, table.actions tr.a-unsupported td { background: #fdecec; }
table.actions tr.a-onprem td, table.actions tr.a-outdated td { background: #fff4e5; }
details.domain { border: 1px solid var(--line); border-radius: 4px; margin: 4px 0; content-visibility: auto; contain-intrinsic-size: auto 32px; }
details.domain summary { cursor: pointer; padding: 5px 10px; list-style-position: inside; }
details.domain[open] summary { background: var(--bg); border-bottom: 1px solid var(--line); }
details.domain .evidence { padding: 4px 12px 10px; }
summary .d { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 600; }
.tag { display: inline-block; margin-left: 10px; padding: 0 7px; border-radius: 10px; background: var(--bg); font-size: 12px; }
.c-exchange-onprem, .c-hybrid { background: #fde2d4; }
.c-exchange-online { background: #dbe7fb; }
.conf { color: var(--muted); font-size: 12px; margin-left: 6px; }
.flag { color: var(--warn); font-size: 12px; margin-left: 8px; font-weight: 600; }
ul.reasons { margin: 0; padding-left: 18px; }
ul.reasons code { color: var(--muted); font-size: 11px; }
ul.pages li { margin: 2px 0; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .charts { display: block; }
  figure.chart, tr, details.domain summary, h2, h3, h4 { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  table.list thead { display: table-header-group; }
  details.action-kind::details-content { content-visibility: visible; display: block; }
  details.domain { content-visibility: visible; border: 0; border-top: 1px solid var(--line); border-radius: 0; }
  details.domain::details-content { content-visibility: visible; display: block; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
`;

if (/["'<>&]/.test(REPORT_CSS)) {
  throw new Error('report CSS must hold no quote, < > or &');
}
