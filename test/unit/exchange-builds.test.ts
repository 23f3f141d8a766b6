import { describe, expect, it } from 'vitest';
import {
  interpretBuild,
  normaliseBuild,
  worstStatus,
} from '../../src/core/exchange-builds.js';
import type { VulnFamily } from '../../src/core/exchange-builds.js';

const TODAY = '2026-12-06';

function status(family: VulnFamily, build: string): string {
  return interpretBuild(build, TODAY)?.families[family] ?? 'not-a-build';
}

// Facts from Microsoft's advisories and build list, written out here rather
// than derived from the table under test: [build, expected, what it is].
const CASES: Record<VulnFamily, [string, string, string][]> = {
  proxylogon: [
    ['15.0.1497.2', 'vulnerable', '2013 CU23'],
    ['15.0.1497.12', 'patched', '2013 CU23 Mar21SU'],
    ['15.0.847.32', 'vulnerable', '2013 SP1'],
    ['15.0.847.64', 'patched', '2013 SP1 Mar21SU'],
    ['15.1.2106.2', 'vulnerable', '2016 CU18'],
    ['15.1.2106.13', 'patched', '2016 CU18 Mar21SU'],
    ['15.1.2176.2', 'vulnerable', '2016 CU19'],
    ['15.1.2176.9', 'patched', '2016 CU19 Mar21SU'],
    ['15.2.721.2', 'vulnerable', '2019 CU7'],
    ['15.2.721.13', 'patched', '2019 CU7 Mar21SU'],
    ['15.2.792.3', 'vulnerable', '2019 CU8'],
    ['15.2.792.10', 'patched', '2019 CU8 Mar21SU'],
    ['14.3.509.0', 'vulnerable', '2010 SP3 RU31'],
    ['14.3.513.0', 'patched', '2010 SP3 RU32'],
    ['15.1.1261.35', 'vulnerable', '2016 CU7: never got the fix'],
    ['15.1.1261', 'vulnerable', '2016 CU7, 3 parts: never got the fix'],
    ['15.1.2242', 'patched', '2016 CU20, 3 parts: shipped with the fix'],
    ['15.2.858', 'patched', '2019 CU9, 3 parts: shipped with the fix'],
    ['15.1.2176', 'unknown', '2016 CU19, 3 parts: fixed by an SU'],
    ['15.1.2176.5', 'unknown', '2016 CU19, a revision no list names'],
    ['15.2.2562.17', 'not-affected', 'Subscription Edition RTM'],
  ],
  proxyshell: [
    ['15.0.1497.15', 'vulnerable', '2013 CU23 Apr21SU (CVE-2021-31207 open)'],
    ['15.0.1497.18', 'patched', '2013 CU23 May21SU'],
    ['15.1.2176.12', 'vulnerable', '2016 CU19 Apr21SU'],
    ['15.1.2176.14', 'patched', '2016 CU19 May21SU'],
    ['15.1.2242.8', 'vulnerable', '2016 CU20 Apr21SU'],
    ['15.1.2242.10', 'patched', '2016 CU20 May21SU'],
    ['15.2.792.13', 'vulnerable', '2019 CU8 Apr21SU'],
    ['15.2.792.15', 'patched', '2019 CU8 May21SU'],
    ['15.2.858.10', 'vulnerable', '2019 CU9 Apr21SU'],
    ['15.2.858.12', 'patched', '2019 CU9 May21SU'],
    ['15.1.2106.13', 'vulnerable', '2016 CU18 Mar21SU: CU never got the fix'],
    ['15.1.2106', 'vulnerable', '2016 CU18, 3 parts: never got the fix'],
    ['15.1.2308', 'patched', '2016 CU21, 3 parts: shipped with the fix'],
    ['15.2.922', 'patched', '2019 CU10, 3 parts: shipped with the fix'],
    ['15.2.858', 'unknown', '2019 CU9, 3 parts'],
    ['14.3.513.0', 'not-affected', 'Exchange 2010'],
  ],
  proxynotshell: [
    ['15.0.1497.42', 'vulnerable', '2013 CU23 Oct22SU'],
    ['15.0.1497.44', 'patched', '2013 CU23 Nov22SU'],
    ['15.1.2375.32', 'vulnerable', '2016 CU22 Oct22SU'],
    ['15.1.2375.37', 'patched', '2016 CU22 Nov22SU'],
    ['15.1.2507.13', 'vulnerable', '2016 CU23 Oct22SU'],
    ['15.1.2507.16', 'patched', '2016 CU23 Nov22SU'],
    ['15.2.986.30', 'vulnerable', '2019 CU11 Oct22SU'],
    ['15.2.986.36', 'patched', '2019 CU11 Nov22SU'],
    ['15.2.1118.15', 'vulnerable', '2019 CU12 Oct22SU'],
    ['15.2.1118.20', 'patched', '2019 CU12 Nov22SU'],
    ['15.2.922.27', 'vulnerable', '2019 CU10 Mar22SU: CU never got the fix'],
    ['15.2.922', 'vulnerable', '2019 CU10, 3 parts'],
    ['15.2.1258', 'patched', '2019 CU13, 3 parts: shipped with the fix'],
    ['15.2.1118', 'unknown', '2019 CU12, 3 parts'],
    ['15.1.9999.1', 'unknown', 'a 2016 CU the table does not know'],
  ],
};

describe('interpretBuild: vulnerability families', () => {
  for (const [family, cases] of Object.entries(CASES)) {
    describe(family, () => {
      it.each(cases)('%s is %s (%s)', (build, expected) => {
        expect(status(family as VulnFamily, build)).toBe(expected);
      });
    });
  }
});

describe('interpretBuild: names, support, currency', () => {
  it('names the CU and the security update of a 4-part build', () => {
    const info = interpretBuild('15.01.2106.013', TODAY);
    expect(info).toMatchObject({
      build: '15.1.2106.13',
      product: '2016',
      cu: 'Exchange Server 2016 CU18',
      update: 'Exchange Server 2016 CU18 Mar21SU',
      current: 'yes',
    });
  });

  it('names the CU only for a 3-part build, currency unknown', () => {
    expect(interpretBuild('15.2.1118', TODAY)).toMatchObject({
      cu: 'Exchange Server 2019 CU12',
      update: '',
      current: 'unknown',
    });
  });

  it('says whether the build has the latest update of its CU', () => {
    expect(interpretBuild('15.2.1748.49', TODAY)?.current).toBe('yes');
    expect(interpretBuild('15.2.1748.46', TODAY)?.current).toBe('no');
    expect(interpretBuild('15.2.1748.10', TODAY)?.latest).toBe('15.2.1748.49');
  });

  it('gives support on the scan date', () => {
    expect(interpretBuild('15.2.1118.20', '2025-10-14')?.support).toBe(
      'supported',
    );
    expect(interpretBuild('15.2.1118.20', '2025-10-15')?.support).toBe(
      'unsupported',
    );
    expect(interpretBuild('15.0.1497.48', '2023-04-12')?.support).toBe(
      'unsupported',
    );
    expect(interpretBuild('15.2.2562.17', TODAY)?.support).toBe('supported');
    expect(interpretBuild('16.0.1.1', TODAY)?.support).toBe('unknown');
  });

  it('refuses what is not a build', () => {
    expect(normaliseBuild('15.1')).toBeNull();
    expect(interpretBuild('=cmd|x', TODAY)).toBeNull();
    expect(interpretBuild('15.1.2106.13.1', TODAY)).toBeNull();
  });

  it('takes the worst of several servers', () => {
    expect(worstStatus(['patched', 'vulnerable', 'unknown'])).toBe(
      'vulnerable',
    );
    expect(worstStatus(['patched', 'unknown'])).toBe('unknown');
    expect(worstStatus([])).toBe('not-affected');
  });
});
