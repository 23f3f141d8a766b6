import { CLASSIFICATIONS, RULES, STATUS_RULES } from './classify.js';
import {
  AUTODISCOVER_PUBLISHERS,
  AUTODISCOVER_SIGNATURES,
  CONVENTIONAL_EXCHANGE_NAMES,
  DKIM_PATTERNS,
  MX_SIGNATURES,
  PROVIDER_DKIM,
  SERVICE_SIGNATURES,
  SPF_SIGNATURES,
} from './signatures.js';
import { RESULT_COLUMNS } from './output-row.js';
import { PROBE_RULES } from './probe-verdict.js';

/** Signal ids the classifier adds beside the table rows, with their meaning. */
export const DERIVED_SIGNALS: readonly { id: string; description: string }[] = [
  {
    id: 'mx-ip-eop',
    description:
      'An MX host with a custom name whose address is in an EOP range',
  },
  {
    id: 'mx-own-host',
    description: "An MX host under the domain's own registrable domain",
  },
  {
    id: 'mx-foreign-host',
    description: 'An MX host elsewhere, matching no signature',
  },
  {
    id: 'mx-microsoft-asn-not-eop',
    description:
      "An MX address in Microsoft's AS8075 but outside EOP: a server on Azure, which is on-premises Exchange for patching",
  },
  {
    id: 'mx-host-unresolvable',
    description: 'An MX host without addresses (others resolved)',
  },
  {
    id: 'mx-ip-literal',
    description: 'The MX names an IP address (RFC 5321 forbids it)',
  },
  {
    id: 'mx-cname',
    description: 'The MX host is an alias (RFC 2181 10.3 forbids it)',
  },
  {
    id: 'autodiscover-onprem',
    description:
      'Autodiscover answers with an own server (CNAME or addresses outside Microsoft)',
  },
  {
    id: 'autodiscover-exo-ip',
    description:
      "Autodiscover addresses inside Microsoft's Exchange Online ranges",
  },
  {
    id: 'autodiscover-srv-onprem',
    description: '_autodiscover._tcp SRV to an own server',
  },
  {
    id: 'autodiscover-wildcard-ignored',
    description:
      "Autodiscover's answer is what a wildcard gives any name: ignored",
  },
  { id: 'wildcard', description: 'The zone has a wildcard under the domain' },
  {
    id: 'spf-multiple',
    description: 'More than one SPF record (a permanent error for receivers)',
  },
  {
    id: 'ms-verification',
    description:
      'MS=ms… TXT: a Microsoft 365 tenant verified the domain (a tenant exists, not where mail is)',
  },
  {
    id: 'exchange-delegation',
    description:
      'exchangedelegation TXT: hybrid federation record (not when a wildcard gives the same TXT)',
  },
  {
    id: 'autodiscover-service',
    description: 'autodiscover.service CNAME to Exchange Online',
  },
  {
    id: 'backup-mx',
    description:
      'A secondary MX at a server elsewhere, matching no signature, ranked below EOP: a backup MX service, not hybrid',
  },
  {
    id: 'autodiscover-provider',
    description:
      "Autodiscover (or its SRV, `-srv`) points under the MX provider's registrable domain, at a known provider, or its address is the MX hoster's (same address or ASN): the hoster's, not on-premises",
  },
  {
    id: 'autoconfig',
    description:
      'autoconfig.<domain> exists beside an own autodiscover: mail systems other than Exchange publish it, Exchange shops rarely do',
  },
  {
    id: 'exchange-host-name',
    description:
      'An own host named owa.<domain> or exchange.<domain> (MX, autodiscover target or conventional name) resolves',
  },
  {
    id: 'onprem-host-conventional',
    description:
      'A conventional Exchange name (mail, owa, …) resolves to an own server, asked because federation records were found',
  },
  {
    id: 'partial-evidence',
    description:
      'Some queries failed; the verdict stands on the rest, with low confidence',
  },
  { id: 'null-mx', description: 'Null MX (RFC 7505) published' },
  {
    id: 'null-mx-mixed',
    description:
      'A null MX beside real MX records (RFC 7505 forbids it): the real ones are used',
  },
  {
    id: 'apex-cname',
    description: 'The domain itself is an alias; its target was scanned',
  },
];

/** What each kind of evidence proves, strongest first. */
export const EVIDENCE_RANK: readonly {
  evidence: string;
  ids: readonly string[];
  proves: string;
}[] = [
  {
    evidence:
      'Federation records (exchangedelegation TXT, autodiscover.service)',
    ids: ['exchange-delegation', 'autodiscover-service'],
    proves:
      'Exchange-specific: a hybrid configuration was set up with an on-premises Exchange server',
  },
  {
    evidence: 'An own owa / exchange host',
    ids: ['exchange-host-name'],
    proves: 'Exchange-specific: the name says Exchange',
  },
  {
    evidence:
      'Exchange Online: EOP MX, EXO autodiscover, EXO DKIM, SPF for EXO',
    ids: ['mx-eop', 'autodiscover-exo', 'dkim-exo', 'spf-exo'],
    proves:
      'Exchange Online holds or sends the mail; beside on-premises evidence: hybrid',
  },
  {
    evidence: 'Own MX, own autodiscover (A, CNAME, SRV)',
    ids: ['mx-own-host', 'autodiscover-onprem', 'autodiscover-srv-onprem'],
    proves:
      'Any mail server: Exchange publishes autodiscover, so do cPanel, mailcow, Zimbra, Kopano, Stalwart',
  },
  {
    evidence: 'autoconfig beside an own autodiscover',
    ids: ['autoconfig'],
    proves:
      'Against Exchange: other mail systems publish it, Exchange shops rarely do',
  },
  {
    evidence:
      "Autodiscover at a known publisher or under the MX hoster's domain or network",
    ids: ['autodiscover-provider', 'autodiscover-publisher-cpanel'],
    proves: "The hoster's discovery service, not an on-premises server",
  },
  {
    evidence: 'MS= verification, Teams / Intune records',
    ids: ['ms-verification', 'teams-lyncdiscover', 'entra-registration'],
    proves: 'A Microsoft 365 tenant exists; nothing about mail',
  },
];

const row = (cells: string[]): string =>
  `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

/** docs/classification.md, generated from the tables the classifier runs on. */
export function classificationDoc(): string {
  const out: string[] = [
    '# How exoscope classifies a domain',
    '',
    '<!-- Generated by `npm run docs` from src/core/signatures.ts and src/core/classify.ts; a test fails when it is stale. -->',
    '',
    'Every row gets one `classification` from this fixed set:',
    '',
    CLASSIFICATIONS.map((c) => `\`${c}\``).join(' · '),
    '',
    'The `reasons` column lists the id of the rule that decided first, then the ids of every signal that fired.',
    '',
    '## What each signal proves',
    '',
    '- An MX at Exchange Online Protection shows where inbound mail **enters**, not where mailboxes live: autodiscover tells that.',
    '- A Microsoft ASN is not Exchange Online: Exchange on an Azure VM is on-premises Exchange, to be patched like any other.',
    '- `MS=` verification and Teams / Intune records show that a tenant exists, not that mail is in it.',
    '- On-premises autodiscover next to Exchange Online evidence is the classic hybrid.',
    '- SPF and DKIM are outbound evidence: they say who sends or signs, and only break ties behind a gateway.',
    '- A failure (timeout, SERVFAIL, REFUSED) is never taken as "no record": the MX lookup failing gives `unresolved`, a side query failing lowers the confidence to `low` and is listed in `error`.',
    '',
    '## Evidence ranked by what it proves',
    '',
    row(['evidence', 'signal ids', 'proves']),
    row(['---', '---', '---']),
    ...EVIDENCE_RANK.map((e) =>
      row([e.evidence, e.ids.map((i) => `\`${i}\``).join(', '), e.proves]),
    ),
    '',
    '`exchange-onprem` at `high` needs Exchange-specific evidence; an own MX with an own autodiscover alone is `medium` at most. Exchange Online evidence beside on-premises evidence gives `hybrid`, at the confidence of the weaker side.',
    '',
    '## onprem_exchange: does the domain still run an Exchange server?',
    '',
    'Answered for every row, whatever the classification says about where mail enters ([onprem-exchange.md](onprem-exchange.md) has the detail):',
    '',
    '- `likely`: an own autodiscover beside Exchange-specific or Exchange Online evidence, or Exchange-specific evidence with an own host',
    '- `possible`: only evidence that fits any mail server (an own MX or autodiscover), or federation records without an own host found',
    "- `none-seen`: no own mail server, a hoster's autodiscover, or an own server that publishes autoconfig (evidence against Exchange)",
    '- `unknown`: the evidence failed, or a filtering gateway hides what stands behind it',
    '',
    "`confirmed` is reserved for a server probe. `onprem_hosts` lists the domain's own hosts that may be an Exchange server (`name=address`, `;`-separated): own MX hosts, autodiscover's own answer (CNAME target, A, SRV target) and, when federation records were found, the conventional names below. Microsoft addresses, provider names and wildcard answers are never listed.",
    '',
    row(['conventional name', 'Exchange-specific', 'why it is asked']),
    row(['---', '---', '---']),
    ...CONVENTIONAL_EXCHANGE_NAMES.map((c) =>
      row([
        `\`${c.label}.<domain>\``,
        c.exchangeSpecific ? 'yes' : 'no',
        c.why,
      ]),
    ),
    '',
    '## Verdicts decided by the scan status',
    '',
    row(['status', 'rule id', 'classification', 'meaning']),
    row(['---', '---', '---', '---']),
    ...Object.entries(STATUS_RULES).map(([status, r]) =>
      row([
        `\`${status}\``,
        `\`${r.id}\``,
        `\`${r.classification}\``,
        r.description,
      ]),
    ),
    '',
    '## Rules for a domain whose MX resolved (first match wins)',
    '',
    row(['#', 'rule id', 'classification', 'confidence', 'when']),
    row(['---', '---', '---', '---', '---']),
    ...RULES.map((r, i) =>
      row([
        String(i + 1),
        `\`${r.id}\``,
        `\`${r.classification}\``,
        r.confidence,
        r.description,
      ]),
    ),
    '',
    'Confidence drops to `low` when any side query failed (`partial-evidence`).',
    '',
    '## After the server probe (`--probe`, see [probe.md](probe.md))',
    '',
    row(['rule id', 'when']),
    row(['---', '---']),
    ...PROBE_RULES.map((r) => row([`\`${r.id}\``, r.description])),
    '',
    "A host that does not answer (timeout, refused, TLS error, blocked address) or only redirects elsewhere changes nothing. The rule id comes first in `reasons`, before DNS's.",
    '',
    '## MX host signatures',
    '',
    row(['id', 'kind', 'name', 'host suffixes', 'meaning']),
    row(['---', '---', '---', '---', '---']),
    ...MX_SIGNATURES.map((s) =>
      row([
        `\`${s.id}\``,
        s.kind,
        s.name,
        s.suffixes.map((x) => `\`${x}\``).join(', '),
        s.description,
      ]),
    ),
    '',
    '## Autodiscover signatures',
    '',
    row(['id', 'target suffixes', 'meaning']),
    row(['---', '---', '---']),
    ...AUTODISCOVER_SIGNATURES.map((s) =>
      row([
        `\`${s.id}\``,
        s.suffixes.map((x) => `\`${x}\``).join(', '),
        s.description,
      ]),
    ),
    '',
    'A `-srv` suffix on an id means the `_autodiscover._tcp` SRV record gave it.',
    '',
    '## Autodiscover publishers that are not Exchange',
    '',
    row(['id', 'target suffixes', 'meaning']),
    row(['---', '---', '---']),
    ...AUTODISCOVER_PUBLISHERS.map((s) =>
      row([
        `\`${s.id}\``,
        s.suffixes.map((x) => `\`${x}\``).join(', '),
        s.description,
      ]),
    ),
    '',
    '## SPF signatures',
    '',
    row(['id', 'include / redirect', 'meaning']),
    row(['---', '---', '---']),
    ...SPF_SIGNATURES.map((s) =>
      row([
        `\`${s.id}\``,
        s.domains.map((x) => `\`${x}\``).join(', '),
        s.description,
      ]),
    ),
    '',
    '## DKIM (tenant name)',
    '',
    row(['id', 'pattern', 'meaning']),
    row(['---', '---', '---']),
    ...DKIM_PATTERNS.map((p) =>
      row([`\`${p.id}\``, `\`${p.pattern.source}\``, p.description]),
    ),
    '',
    '## Provider DKIM (who signs behind an opaque MX)',
    '',
    row(['id', 'selector asked', 'pattern', 'meaning']),
    row(['---', '---', '---', '---']),
    ...PROVIDER_DKIM.map((p) =>
      row([
        `\`${p.id}\``,
        p.selector
          ? `\`${p.selector}._domainkey\``
          : '(random token, not asked)',
        `\`${p.pattern.source}\``,
        p.description,
      ]),
    ),
    '',
    '## Microsoft 365 service records',
    '',
    row(['id', 'name', 'target suffixes', 'meaning']),
    row(['---', '---', '---', '---']),
    ...SERVICE_SIGNATURES.map((s) =>
      row([
        `\`${s.id}\``,
        `\`${s.label}.<domain>\``,
        s.suffixes.map((x) => `\`${x}\``).join(', '),
        s.description,
      ]),
    ),
    '',
    '## Other signals',
    '',
    row(['id', 'meaning']),
    row(['---', '---']),
    ...DERIVED_SIGNALS.map((s) => row([`\`${s.id}\``, s.description])),
    '',
    '## Output columns',
    '',
    "After the input's own columns (renamed `input_<name>` if a name clashes), in this order:",
    '',
    RESULT_COLUMNS.map((c) => `\`${c}\``).join(', '),
    '',
  ];
  return out.join('\n');
}
