/** Company-like domain names under names reserved never to exist (RFC 2606, 6761). */
import type { Rng } from './rng.js';

const FIRST = (
  'aster birchwood bramble calder canyon cobalt copperfield cresthaven ' +
  'dalton deerfield driftwood elmstead emberly fairhaven fernhill ' +
  'foxglove glenmore granitebay greystone harwick hazelmere heathrow ' +
  'hollybrook ironbridge juniper kestrel kingsley lakeshore larkspur ' +
  'linwood marigold meadowbank millbrook moorland northgate oakridge ' +
  'orchid pebble pinecrest quarry ravenscar redfern riverside rosewood ' +
  'saltmarsh sandstone seabright silverleaf southwick stonebridge ' +
  'summerfield sunridge thistle thornbury timberline trent upland ' +
  'vale westbrook whitcombe wildflower willowmere windmill wrenfield ' +
  'yarrow abbott baxter carver dawson ellis fletcher gardner hadley ' +
  'irving jarvis keller lambert mercer norris osborne parker quinn ' +
  'ramsey sawyer turner vaughan walsh'
).split(' ');

const TRADE = (
  'accountants advisory agency analytics architects audio automotive ' +
  'bakehouse bathrooms bicycles boatyard bookkeeping brewing builders ' +
  'cabinetry cafe carpentry catering ceramics chemists cleaners clinic ' +
  'coaching coffee components conveyancing couriers dairy decorators ' +
  'dentistry distribution drainage electrics engineering estates events ' +
  'fabrics farms fencing florists foundry freight glazing groundworks ' +
  'haulage heating homecare hotels insurance joinery kitchens labs ' +
  'landscapes leisure lighting locksmiths machining marine media ' +
  'metalworks mills motors nurseries optics outdoors packaging paving ' +
  'pharma physio plastering plumbing printing property recruitment ' +
  'removals roofing saddlery scaffolding security signage solicitors ' +
  'storage surveying textiles tiling timber tools training travel ' +
  'tutors upholstery vets vineyards welding wholesale'
).split(' ');

const TAIL = ['group', 'ltd', 'co', 'hq', 'uk', 'online', 'direct', 'plus'];

/** Public suffixes and their shares: `co.test` stands for a two-label suffix like co.uk. */
const SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ['test', 60],
  ['co.test', 25],
  ['example', 15],
];

/** Draws names that were not drawn before. */
export class NameSource {
  private readonly used = new Set<string>();

  constructor(private readonly rng: Rng) {}

  /** A new registrable name under `suffix` (drawn from SUFFIXES if none). */
  next(suffix?: string): string {
    const r = this.rng;
    for (let attempt = 0; ; attempt++) {
      const a = r.pick(FIRST);
      const b = r.pick(TRADE);
      let base = r.weighted<() => string>([
        [() => `${a}${b}`, 30],
        [() => `${a}-${b}`, 30],
        [() => `${a}${b}${r.pick(TAIL)}`, 15],
        [() => `${a}-${b}-${r.pick(TAIL)}`, 10],
        [() => `${a}and${r.pick(FIRST)}`, 8],
        [() => `${a}-${r.pick(FIRST)}`, 7],
      ])();
      if (attempt >= 6) base += String(r.int(2, 9999));
      const name = `${base}.${suffix ?? r.weighted(SUFFIXES)}`;
      if (!this.used.has(name)) {
        this.used.add(name);
        return name;
      }
    }
  }
}
