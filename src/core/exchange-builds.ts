/**
 * Exchange Server builds and what they mean: product, cumulative update,
 * security update, the state of the ProxyLogon, ProxyShell and
 * ProxyNotShell fixes, support, and whether a build is the latest update of
 * its CU. Pure data and functions: the probe (docs/probe.md) hands it the
 * build a server announced.
 */

/**
 * Every Exchange 2010, 2013, 2016, 2019 and Subscription Edition build with
 * its release date: `[name, build, released]`. Facts from Microsoft's
 * "Exchange Server build numbers and release dates"
 * (https://learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates)
 * as published in Microsoft's own machine-readable copy,
 * ExchangeBuildNumbers.csv of github.com/microsoft/Get-ExchangeBuildNumber
 * (MIT), state of 2026-08-19 (last entry: the August 2026 security
 * updates). Previews left out; build numbers without leading zeros.
 */
export const EXCHANGE_BUILDS: readonly (readonly [string, string, string])[] = [
  ['2010 RTM', '14.0.639.21', '2009-11-09'],
  ['2010 RU1', '14.0.682.1', '2009-12-09'],
  ['2010 RU2', '14.0.689.0', '2010-03-04'],
  ['2010 RU3', '14.0.694.0', '2010-04-13'],
  ['2010 RU4', '14.0.702.1', '2010-06-10'],
  ['2010 RU5', '14.0.726.0', '2010-12-13'],
  ['2010 SP1 RTM', '14.1.218.15', '2010-08-23'],
  ['2010 SP1 RU1', '14.1.255.2', '2010-10-04'],
  ['2010 SP1 RU2', '14.1.270.1', '2010-12-09'],
  ['2010 SP1 RU3', '14.1.289.3', '2011-03-07'],
  ['2010 SP1 RU3v3', '14.1.289.7', '2011-04-06'],
  ['2010 SP1 RU4', '14.1.323.1', '2011-06-22'],
  ['2010 SP1 RU4v2', '14.1.323.6', '2011-07-27'],
  ['2010 SP1 RU5', '14.1.339.1', '2011-08-23'],
  ['2010 SP1 RU6', '14.1.355.2', '2011-10-27'],
  ['2010 SP1 RU7', '14.1.421.0', '2012-08-08'],
  ['2010 SP1 RU7v2', '14.1.421.2', '2012-10-10'],
  ['2010 SP1 RU7v3', '14.1.421.3', '2012-11-13'],
  ['2010 SP1 RU8', '14.1.438.0', '2012-12-10'],
  ['2010 SP2 RTM', '14.2.247.5', '2011-12-04'],
  ['2010 SP2 RU1', '14.2.283.3', '2012-02-13'],
  ['2010 SP2 RU2', '14.2.298.4', '2012-04-16'],
  ['2010 SP2 RU3', '14.2.309.2', '2012-05-29'],
  ['2010 SP2 RU4', '14.2.318.2', '2012-08-13'],
  ['2010 SP2 RU4v2', '14.2.318.4', '2012-10-09'],
  ['2010 SP2 RU5', '14.2.328.5', '2012-11-13'],
  ['2010 SP2 RU5v2', '14.2.328.10', '2012-12-10'],
  ['2010 SP2 RU6', '14.2.342.3', '2013-02-12'],
  ['2010 SP2 RU7', '14.2.375.0', '2013-08-03'],
  ['2010 SP2 RU8', '14.2.390.3', '2013-12-09'],
  ['2010 SP3 RTM', '14.3.123.4', '2013-02-12'],
  ['2010 SP3 RU1', '14.3.146.0', '2013-05-29'],
  ['2010 SP3 RU2', '14.3.158.1', '2013-08-08'],
  ['2010 SP3 RU3', '14.3.169.1', '2013-11-25'],
  ['2010 SP3 RU4', '14.3.174.1', '2013-12-09'],
  ['2010 SP3 RU5', '14.3.181.6', '2014-02-24'],
  ['2010 SP3 RU6', '14.3.195.1', '2014-05-27'],
  ['2010 SP3 RU7', '14.3.210.2', '2014-08-26'],
  ['2010 SP3 RU8v2', '14.3.224.2', '2014-12-12'],
  ['2010 SP3 RU9', '14.3.235.1', '2015-03-17'],
  ['2010 SP3 RU10', '14.3.248.2', '2015-06-17'],
  ['2010 SP3 RU11', '14.3.266.1', '2015-09-15'],
  ['2010 SP3 RU12', '14.3.279.2', '2015-12-15'],
  ['2010 SP3 RU13', '14.3.294.0', '2016-03-15'],
  ['2010 SP3 RU14', '14.3.301.0', '2016-06-21'],
  ['2010 SP3 RU15', '14.3.319.2', '2016-09-20'],
  ['2010 SP3 RU16', '14.3.339.0', '2016-12-13'],
  ['2010 SP3 RU17', '14.3.352.0', '2017-03-21'],
  ['2010 SP3 RU18', '14.3.361.1', '2017-07-11'],
  ['2010 SP3 RU19', '14.3.382.0', '2017-12-19'],
  ['2010 SP3 RU20', '14.3.389.1', '2018-03-05'],
  ['2010 SP3 RU21', '14.3.399.2', '2018-05-07'],
  ['2010 SP3 RU22', '14.3.411.0', '2018-06-19'],
  ['2010 SP3 RU23', '14.3.417.1', '2018-08-13'],
  ['2010 SP3 RU24', '14.3.419.0', '2018-09-05'],
  ['2010 SP3 RU25', '14.3.435.0', '2019-01-08'],
  ['2010 SP3 RU26', '14.3.442.0', '2019-02-12'],
  ['2010 SP3 RU27', '14.3.452.0', '2019-04-09'],
  ['2010 SP3 RU28', '14.3.461.1', '2019-06-07'],
  ['2010 SP3 RU29', '14.3.468.0', '2019-07-09'],
  ['2010 SP3 RU30', '14.3.496.0', '2020-02-11'],
  ['2010 SP3 RU31', '14.3.509.0', '2020-12-01'],
  ['2010 SP3 RU32', '14.3.513.0', '2021-03-02'],
  ['2013 RTM', '15.0.516.32', '2012-12-03'],
  ['2013 CU1', '15.0.620.29', '2013-04-02'],
  ['2013 CU2', '15.0.712.24', '2013-07-09'],
  ['2013 CU3', '15.0.775.38', '2013-11-25'],
  ['2013 SP1', '15.0.847.32', '2014-02-25'],
  ['2013 SP1 Mar21SU', '15.0.847.64', '2021-03-02'],
  ['2013 CU5', '15.0.913.22', '2014-05-27'],
  ['2013 CU6', '15.0.995.29', '2014-08-26'],
  ['2013 CU7', '15.0.1044.25', '2014-12-09'],
  ['2013 CU8', '15.0.1076.9', '2015-03-17'],
  ['2013 CU9', '15.0.1104.5', '2015-06-17'],
  ['2013 CU10', '15.0.1130.7', '2015-09-15'],
  ['2013 CU11', '15.0.1156.6', '2015-12-15'],
  ['2013 CU12', '15.0.1178.4', '2016-03-15'],
  ['2013 CU13', '15.0.1210.3', '2016-06-21'],
  ['2013 CU14', '15.0.1236.3', '2016-09-20'],
  ['2013 CU15', '15.0.1263.5', '2016-12-13'],
  ['2013 CU16', '15.0.1293.2', '2017-03-21'],
  ['2013 CU17', '15.0.1320.4', '2017-06-27'],
  ['2013 CU18', '15.0.1347.2', '2017-09-19'],
  ['2013 CU19', '15.0.1365.1', '2017-12-19'],
  ['2013 CU20', '15.0.1367.3', '2018-03-20'],
  ['2013 CU21', '15.0.1395.4', '2018-06-19'],
  ['2013 CU21 Mar21SU', '15.0.1395.12', '2021-03-02'],
  ['2013 CU22', '15.0.1473.3', '2019-02-12'],
  ['2013 CU22 Mar21SU', '15.0.1473.6', '2021-03-02'],
  ['2013 CU23', '15.0.1497.2', '2019-06-18'],
  ['2013 CU23 Mar21SU', '15.0.1497.12', '2021-03-02'],
  ['2013 CU23 Apr21SU', '15.0.1497.15', '2021-04-13'],
  ['2013 CU23 May21SU', '15.0.1497.18', '2021-05-11'],
  ['2013 CU23 Jul21SU', '15.0.1497.23', '2021-07-13'],
  ['2013 CU23 Oct21SU', '15.0.1497.24', '2021-10-12'],
  ['2013 CU23 Nov21SU', '15.0.1497.26', '2021-11-09'],
  ['2013 CU23 Jan22SU', '15.0.1497.28', '2022-01-11'],
  ['2013 CU23 Mar22SU', '15.0.1497.33', '2022-03-08'],
  ['2013 CU23 May22SU', '15.0.1497.36', '2022-05-10'],
  ['2013 CU23 Aug22SU', '15.0.1497.40', '2022-08-09'],
  ['2013 CU23 Oct22SU', '15.0.1497.42', '2022-10-11'],
  ['2013 CU23 Nov22SU', '15.0.1497.44', '2022-11-08'],
  ['2013 CU23 Jan23SU', '15.0.1497.45', '2023-01-10'],
  ['2013 CU23 Feb23SU', '15.0.1497.47', '2023-02-14'],
  ['2013 CU23 Mar23SU', '15.0.1497.48', '2023-03-14'],
  ['2016 RTM', '15.1.225.42', '2015-10-01'],
  ['2016 CU1', '15.1.396.30', '2016-03-15'],
  ['2016 CU2', '15.1.466.34', '2016-06-21'],
  ['2016 CU3', '15.1.544.27', '2016-09-20'],
  ['2016 CU4', '15.1.669.32', '2016-12-13'],
  ['2016 CU5', '15.1.845.34', '2017-03-21'],
  ['2016 CU6', '15.1.1034.26', '2017-06-27'],
  ['2016 CU7', '15.1.1261.35', '2017-09-19'],
  ['2016 CU8', '15.1.1415.2', '2017-12-19'],
  ['2016 CU8 Mar21SU', '15.1.1415.10', '2021-03-02'],
  ['2016 CU9', '15.1.1466.3', '2018-03-20'],
  ['2016 CU9 Mar21SU', '15.1.1466.16', '2021-03-02'],
  ['2016 CU10', '15.1.1531.3', '2018-06-19'],
  ['2016 CU10 Mar21SU', '15.1.1531.12', '2021-03-02'],
  ['2016 CU11', '15.1.1591.10', '2018-10-16'],
  ['2016 CU11 Mar21SU', '15.1.1591.18', '2021-03-02'],
  ['2016 CU12', '15.1.1713.5', '2019-02-12'],
  ['2016 CU12 Mar21SU', '15.1.1713.10', '2021-03-02'],
  ['2016 CU13', '15.1.1779.2', '2019-06-18'],
  ['2016 CU13 Mar21SU', '15.1.1779.8', '2021-03-02'],
  ['2016 CU14', '15.1.1847.3', '2019-09-17'],
  ['2016 CU14 Mar21SU', '15.1.1847.12', '2021-03-02'],
  ['2016 CU15', '15.1.1913.5', '2019-12-17'],
  ['2016 CU15 Mar21SU', '15.1.1913.12', '2021-03-02'],
  ['2016 CU16', '15.1.1979.3', '2020-03-17'],
  ['2016 CU16 Mar21SU', '15.1.1979.8', '2021-03-02'],
  ['2016 CU17', '15.1.2044.4', '2020-06-16'],
  ['2016 CU17 Mar21SU', '15.1.2044.13', '2021-03-02'],
  ['2016 CU18', '15.1.2106.2', '2020-09-15'],
  ['2016 CU18 Mar21SU', '15.1.2106.13', '2021-03-02'],
  ['2016 CU19', '15.1.2176.2', '2020-12-15'],
  ['2016 CU19 Mar21SU', '15.1.2176.9', '2021-03-02'],
  ['2016 CU19 Apr21SU', '15.1.2176.12', '2021-04-13'],
  ['2016 CU19 May21SU', '15.1.2176.14', '2021-05-11'],
  ['2016 CU20', '15.1.2242.4', '2021-03-16'],
  ['2016 CU20 Apr21SU', '15.1.2242.8', '2021-04-13'],
  ['2016 CU20 May21SU', '15.1.2242.10', '2021-05-11'],
  ['2016 CU20 Jul21SU', '15.1.2242.12', '2021-07-13'],
  ['2016 CU21', '15.1.2308.8', '2021-06-29'],
  ['2016 CU21 Jul21SU', '15.1.2308.14', '2021-07-13'],
  ['2016 CU21 Oct21SU', '15.1.2308.15', '2021-10-12'],
  ['2016 CU21 Nov21SU', '15.1.2308.20', '2021-11-09'],
  ['2016 CU21 Jan22SU', '15.1.2308.21', '2022-01-11'],
  ['2016 CU21 Mar22SU', '15.1.2308.27', '2022-03-08'],
  ['2016 CU22', '15.1.2375.7', '2021-09-28'],
  ['2016 CU22 Oct21SU', '15.1.2375.12', '2021-10-12'],
  ['2016 CU22 Nov21SU', '15.1.2375.17', '2021-11-09'],
  ['2016 CU22 Jan22SU', '15.1.2375.18', '2022-01-11'],
  ['2016 CU22 Mar22SU', '15.1.2375.24', '2022-03-08'],
  ['2016 CU22 May22SU', '15.1.2375.28', '2022-05-10'],
  ['2016 CU22 Aug22SU', '15.1.2375.31', '2022-08-09'],
  ['2016 CU22 Oct22SU', '15.1.2375.32', '2022-10-11'],
  ['2016 CU22 Nov22SU', '15.1.2375.37', '2022-11-08'],
  ['2016 CU23', '15.1.2507.6', '2022-04-20'],
  ['2016 CU23 May22SU', '15.1.2507.9', '2022-05-10'],
  ['2016 CU23 Aug22SU', '15.1.2507.12', '2022-08-09'],
  ['2016 CU23 Oct22SU', '15.1.2507.13', '2022-10-11'],
  ['2016 CU23 Nov22SU', '15.1.2507.16', '2022-11-08'],
  ['2016 CU23 Jan23SU', '15.1.2507.17', '2023-01-10'],
  ['2016 CU23 Feb23SU', '15.1.2507.21', '2023-02-14'],
  ['2016 CU23 Mar23SU', '15.1.2507.23', '2023-03-14'],
  ['2016 CU23 Jun23SU', '15.1.2507.27', '2023-06-13'],
  ['2016 CU23 Aug23SU', '15.1.2507.31', '2023-08-08'],
  ['2016 CU23 Aug23SUv2', '15.1.2507.32', '2023-08-15'],
  ['2016 CU23 Oct23SU', '15.1.2507.34', '2023-10-10'],
  ['2016 CU23 Nov23SU', '15.1.2507.35', '2023-11-14'],
  ['2016 CU23 Mar24SU', '15.1.2507.37', '2024-03-12'],
  ['2016 CU23 Apr24HU', '15.1.2507.39', '2024-04-23'],
  ['2016 CU23 Nov24SU', '15.1.2507.43', '2024-11-12'],
  ['2016 CU23 Nov24SUv2', '15.1.2507.44', '2024-11-27'],
  ['2016 CU23 Apr25HU', '15.1.2507.55', '2025-04-18'],
  ['2016 CU23 May25HU', '15.1.2507.57', '2025-05-29'],
  ['2016 CU23 Aug25SU', '15.1.2507.58', '2025-08-12'],
  ['2016 CU23 Sep25HU', '15.1.2507.59', '2025-09-08'],
  ['2016 CU23 Oct25SU', '15.1.2507.61', '2025-10-14'],
  ['2016 CU23 Dec25SU', '15.1.2507.63', '2025-12-09'],
  ['2016 CU23 Feb26SU', '15.1.2507.66', '2026-02-10'],
  ['2016 CU23 Jun26SU', '15.1.2507.69', '2026-06-09'],
  ['2016 CU23 Jul26SU', '15.1.2507.71', '2026-07-14'],
  ['2016 CU23 Aug26SU', '15.1.2507.72', '2026-08-11'],
  ['2019 RTM', '15.2.221.12', '2018-10-22'],
  ['2019 RTM Mar21SU', '15.2.221.18', '2021-03-02'],
  ['2019 CU1', '15.2.330.5', '2019-02-12'],
  ['2019 CU1 Mar21SU', '15.2.330.11', '2021-03-02'],
  ['2019 CU2', '15.2.397.3', '2019-06-18'],
  ['2019 CU2 Mar21SU', '15.2.397.11', '2021-03-02'],
  ['2019 CU3', '15.2.464.5', '2019-09-17'],
  ['2019 CU3 Mar21SU', '15.2.464.15', '2021-03-02'],
  ['2019 CU4', '15.2.529.5', '2019-12-17'],
  ['2019 CU4 Mar21SU', '15.2.529.13', '2021-03-02'],
  ['2019 CU5', '15.2.595.3', '2020-03-17'],
  ['2019 CU5 Mar21SU', '15.2.595.8', '2021-03-02'],
  ['2019 CU6', '15.2.659.4', '2020-06-16'],
  ['2019 CU6 Mar21SU', '15.2.659.12', '2021-03-02'],
  ['2019 CU7', '15.2.721.2', '2020-09-15'],
  ['2019 CU7 Mar21SU', '15.2.721.13', '2021-03-02'],
  ['2019 CU8', '15.2.792.3', '2020-12-15'],
  ['2019 CU8 Mar21SU', '15.2.792.10', '2021-03-02'],
  ['2019 CU8 Apr21SU', '15.2.792.13', '2021-04-13'],
  ['2019 CU8 May21SU', '15.2.792.15', '2021-05-11'],
  ['2019 CU9', '15.2.858.5', '2021-03-16'],
  ['2019 CU9 Apr21SU', '15.2.858.10', '2021-04-13'],
  ['2019 CU9 May21SU', '15.2.858.12', '2021-05-11'],
  ['2019 CU9 Jul21SU', '15.2.858.15', '2021-07-13'],
  ['2019 CU10', '15.2.922.7', '2021-06-29'],
  ['2019 CU10 Jul21SU', '15.2.922.13', '2021-07-13'],
  ['2019 CU10 Oct21SU', '15.2.922.14', '2021-10-12'],
  ['2019 CU10 Nov21SU', '15.2.922.19', '2021-11-09'],
  ['2019 CU10 Jan22SU', '15.2.922.20', '2022-01-11'],
  ['2019 CU10 Mar22SU', '15.2.922.27', '2022-03-08'],
  ['2019 CU11', '15.2.986.5', '2021-09-28'],
  ['2019 CU11 Oct21SU', '15.2.986.9', '2021-10-12'],
  ['2019 CU11 Nov21SU', '15.2.986.14', '2021-11-09'],
  ['2019 CU11 Jan22SU', '15.2.986.15', '2022-01-11'],
  ['2019 CU11 Mar22SU', '15.2.986.22', '2022-03-08'],
  ['2019 CU11 May22SU', '15.2.986.26', '2022-05-10'],
  ['2019 CU11 Aug22SU', '15.2.986.29', '2022-08-09'],
  ['2019 CU11 Oct22SU', '15.2.986.30', '2022-10-11'],
  ['2019 CU11 Nov22SU', '15.2.986.36', '2022-11-08'],
  ['2019 CU11 Jan23SU', '15.2.986.37', '2023-01-10'],
  ['2019 CU11 Feb23SU', '15.2.986.41', '2023-02-14'],
  ['2019 CU11 Mar23SU', '15.2.986.42', '2023-03-14'],
  ['2019 CU12', '15.2.1118.7', '2022-04-20'],
  ['2019 CU12 May22SU', '15.2.1118.9', '2022-05-10'],
  ['2019 CU12 Aug22SU', '15.2.1118.12', '2022-08-09'],
  ['2019 CU12 Oct22SU', '15.2.1118.15', '2022-10-11'],
  ['2019 CU12 Nov22SU', '15.2.1118.20', '2022-11-08'],
  ['2019 CU12 Jan23SU', '15.2.1118.21', '2023-01-10'],
  ['2019 CU12 Feb23SU', '15.2.1118.25', '2023-02-14'],
  ['2019 CU12 Mar23SU', '15.2.1118.26', '2023-03-14'],
  ['2019 CU12 Jun23SU', '15.2.1118.30', '2023-06-13'],
  ['2019 CU12 Aug23SU', '15.2.1118.36', '2023-08-08'],
  ['2019 CU12 Aug23SUv2', '15.2.1118.37', '2023-08-15'],
  ['2019 CU12 Oct23SU', '15.2.1118.39', '2023-10-10'],
  ['2019 CU12 Nov23SU', '15.2.1118.40', '2023-11-14'],
  ['2019 CU13 (2023H1)', '15.2.1258.12', '2023-05-03'],
  ['2019 CU13 Jun23SU', '15.2.1258.16', '2023-06-13'],
  ['2019 CU13 Aug23SU', '15.2.1258.23', '2023-08-08'],
  ['2019 CU13 Aug23SUv2', '15.2.1258.25', '2023-08-15'],
  ['2019 CU13 Oct23SU', '15.2.1258.27', '2023-10-10'],
  ['2019 CU13 Nov23SU', '15.2.1258.28', '2023-11-14'],
  ['2019 CU13 Mar24SU', '15.2.1258.32', '2024-03-12'],
  ['2019 CU13 Apr24HU', '15.2.1258.34', '2024-04-23'],
  ['2019 CU13 Nov24SU', '15.2.1258.38', '2024-11-12'],
  ['2019 CU13 Nov24SUv2', '15.2.1258.39', '2024-11-27'],
  ['2019 CU14', '15.2.1544.4', '2024-02-13'],
  ['2019 CU14 Mar24SU', '15.2.1544.9', '2024-03-12'],
  ['2019 CU14 Apr24HU', '15.2.1544.11', '2024-04-23'],
  ['2019 CU14 Nov24SU', '15.2.1544.13', '2024-11-12'],
  ['2019 CU14 Nov24SUv2', '15.2.1544.14', '2024-11-27'],
  ['2019 CU14 Apr25HU', '15.2.1544.25', '2025-04-18'],
  ['2019 CU14 May25HU', '15.2.1544.27', '2025-05-29'],
  ['2019 CU14 Aug25SU', '15.2.1544.33', '2025-08-12'],
  ['2019 CU14 Sep25HU', '15.2.1544.34', '2025-09-08'],
  ['2019 CU14 Oct25SU', '15.2.1544.36', '2025-10-14'],
  ['2019 CU14 Dec25SU', '15.2.1544.37', '2025-12-09'],
  ['2019 CU14 Feb26SU', '15.2.1544.39', '2026-02-10'],
  ['2019 CU14 Jun26SU', '15.2.1544.41', '2026-06-09'],
  ['2019 CU14 Jul26SU', '15.2.1544.43', '2026-07-14'],
  ['2019 CU14 Aug26SU', '15.2.1544.44', '2026-08-11'],
  ['2019 CU15', '15.2.1748.10', '2025-02-10'],
  ['2019 CU15 Apr25HU', '15.2.1748.24', '2025-04-18'],
  ['2019 CU15 May25HU', '15.2.1748.26', '2025-05-29'],
  ['2019 CU15 Aug25SU', '15.2.1748.36', '2025-08-12'],
  ['2019 CU15 Sep25HU', '15.2.1748.37', '2025-09-08'],
  ['2019 CU15 Oct25SU', '15.2.1748.39', '2025-10-14'],
  ['2019 CU15 Dec25SU', '15.2.1748.42', '2025-12-09'],
  ['2019 CU15 Feb26SU', '15.2.1748.43', '2026-02-10'],
  ['2019 CU15 Jun26SU', '15.2.1748.46', '2026-06-09'],
  ['2019 CU15 Jul26SU', '15.2.1748.48', '2026-07-14'],
  ['2019 CU15 Aug26SU', '15.2.1748.49', '2026-08-11'],
  ['SE RTM', '15.2.2562.17', '2025-07-01'],
  ['SE RTM Aug25SU', '15.2.2562.20', '2025-08-12'],
  ['SE RTM Sep25HU', '15.2.2562.27', '2025-09-08'],
  ['SE RTM Oct25SU', '15.2.2562.29', '2025-10-14'],
  ['SE RTM Dec25SU', '15.2.2562.35', '2025-12-09'],
  ['SE RTM Feb26SU', '15.2.2562.37', '2026-02-10'],
  ['SE RTM May26HU', '15.2.2562.41', '2026-05-07'],
  ['SE RTM Jun26SU', '15.2.2562.43', '2026-06-09'],
  ['SE RTM Jul26SU', '15.2.2562.45', '2026-07-14'],
  ['SE RTM Aug26SU', '15.2.2562.46', '2026-08-11'],
];

/** The products the table knows, by the first word of a build's name. */
export type ExchangeProduct = '2010' | '2013' | '2016' | '2019' | 'SE';

/**
 * End of (extended) support of each product, from Microsoft's lifecycle
 * pages (https://learn.microsoft.com/lifecycle/products/exchange-server-2010,
 * …-2013, …-2016, …-2019). Subscription Edition follows the Modern
 * Lifecycle Policy: supported while on a current CU, no end date (null).
 * The paid Extended Security Update period for 2016 and 2019 is not support.
 */
export const SUPPORT_ENDS: Readonly<Record<ExchangeProduct, string | null>> = {
  '2010': '2020-10-13',
  '2013': '2023-04-11',
  '2016': '2025-10-14',
  '2019': '2025-10-14',
  SE: null,
};

export const VULN_FAMILIES = [
  'proxylogon',
  'proxyshell',
  'proxynotshell',
] as const;
export type VulnFamily = (typeof VULN_FAMILIES)[number];

/** What a build means for one vulnerability family. */
export type FamilyStatus =
  'patched' | 'vulnerable' | 'unknown' | 'not-affected';

export interface FamilyFix {
  cves: readonly string[];
  /**
   * Release day of the security updates that closed the whole family: a
   * build released on or after it (an SU, or a CU that shipped later)
   * carries the fix, one released before does not.
   */
  fixedOn: string;
  affected: readonly ExchangeProduct[];
  description: string;
}

/** The families and the updates that fixed them (Microsoft Security Response Center advisories). */
export const FAMILY_FIXES: Readonly<Record<VulnFamily, FamilyFix>> = {
  proxylogon: {
    cves: [
      'CVE-2021-26855',
      'CVE-2021-26857',
      'CVE-2021-26858',
      'CVE-2021-27065',
    ],
    fixedOn: '2021-03-02',
    affected: ['2010', '2013', '2016', '2019'],
    description:
      'March 2021 security updates (KB5000871); Exchange 2010 had only CVE-2021-26857, fixed by SP3 RU32',
  },
  proxyshell: {
    cves: ['CVE-2021-34473', 'CVE-2021-34523', 'CVE-2021-31207'],
    fixedOn: '2021-05-11',
    affected: ['2013', '2016', '2019'],
    description:
      'April 2021 (KB5001779: CVE-2021-34473, -34523) and May 2021 (KB5003435: CVE-2021-31207) security updates',
  },
  proxynotshell: {
    cves: ['CVE-2022-41040', 'CVE-2022-41082'],
    fixedOn: '2022-11-08',
    affected: ['2013', '2016', '2019'],
    description: 'November 2022 security updates (KB5019758)',
  },
};

/** What a build announced by a server means. */
export interface BuildInfo {
  /** The build, normalised (no leading zeros); 3 or 4 parts. */
  build: string;
  product: ExchangeProduct | null;
  /** `Exchange Server 2016 CU19`; '' when the CU is not in the table. */
  cu: string;
  /** `Exchange Server 2016 CU19 Mar21SU` when the 4-part build is in the table, else ''. */
  update: string;
  families: Record<VulnFamily, FamilyStatus>;
  /** On the scan's date; `unknown` when the product is not known. */
  support: 'supported' | 'unsupported' | 'unknown';
  supportEnds: string | null;
  /** The build carries the latest update the table knows for its CU. */
  current: 'yes' | 'no' | 'unknown';
  /** That latest update's build, '' when the CU is not in the table. */
  latest: string;
}

interface Row {
  name: string;
  rev: number;
  released: string;
}

/** The table's rows grouped by CU (the first three parts of the build). */
const CUS: ReadonlyMap<string, readonly Row[]> = (() => {
  const map = new Map<string, Row[]>();
  for (const [name, build, released] of EXCHANGE_BUILDS) {
    const parts = build.split('.');
    const key = parts.slice(0, 3).join('.');
    const rows = map.get(key) ?? [];
    rows.push({ name, rev: Number(parts[3]), released });
    map.set(key, rows);
  }
  for (const rows of map.values()) rows.sort((a, b) => a.rev - b.rev);
  return map;
})();

const BUILD = /^(\d{1,2})\.(\d{1,2})\.(\d{1,5})(?:\.(\d{1,5}))?$/;

/** `15.01.2106.013` → `15.1.2106.13`; null when not a build number. */
export function normaliseBuild(text: string): string | null {
  const m = BUILD.exec(text.trim());
  if (!m) return null;
  return m
    .slice(1)
    .filter((p) => p !== undefined)
    .map((p) => String(Number(p)))
    .join('.');
}

/** The product a build's major.minor.build belongs to (15.2 from 2562 is SE). */
function productOf(parts: readonly number[]): ExchangeProduct | null {
  const [major, minor, build] = parts as [number, number, number];
  if (major === 14) return '2010';
  if (major !== 15) return null;
  if (minor === 0) return '2013';
  if (minor === 1) return '2016';
  if (minor === 2) return build >= 2562 ? 'SE' : '2019';
  return null;
}

/**
 * What `build` (3 or 4 parts) means on `today` (ISO date, the scan's).
 * A 3-part build decides a family only when its CU shipped with the fix or
 * never got one; otherwise, and for a build the table does not know, the
 * answer is `unknown`, never a guess. Null when `build` is not a build.
 */
export function interpretBuild(build: string, today: string): BuildInfo | null {
  const norm = normaliseBuild(build);
  if (norm === null) return null;
  const parts = norm.split('.').map(Number);
  const product = productOf(parts);
  const rows = CUS.get(parts.slice(0, 3).join('.')) ?? [];
  const rev = parts.length === 4 ? (parts[3] as number) : null;
  const families = {} as Record<VulnFamily, FamilyStatus>;
  for (const f of VULN_FAMILIES) {
    families[f] = familyStatus(FAMILY_FIXES[f], product, rows, rev);
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  const exact = rev === null ? undefined : rows.find((r) => r.rev === rev);
  const ends = product ? SUPPORT_ENDS[product] : null;
  return {
    build: norm,
    product,
    cu: first ? `Exchange Server ${cuName(first.name)}` : '',
    update: exact ? `Exchange Server ${exact.name}` : '',
    families,
    support:
      product === null
        ? 'unknown'
        : ends !== null && today > ends
          ? 'unsupported'
          : 'supported',
    supportEnds: ends,
    current: !last || rev === null ? 'unknown' : rev >= last.rev ? 'yes' : 'no',
    latest: last ? `${parts.slice(0, 3).join('.')}.${last.rev}` : '',
  };
}

/** A CU's name from its first build's: `2013 CU23` (an SU's name would add `Mar21SU`). */
function cuName(name: string): string {
  return name.replace(/\s+\(.*\)$/, '');
}

function familyStatus(
  fix: FamilyFix,
  product: ExchangeProduct | null,
  rows: readonly Row[],
  rev: number | null,
): FamilyStatus {
  if (product === null) return 'unknown';
  if (!fix.affected.includes(product)) return 'not-affected';
  if (rows.length === 0) return 'unknown';
  const before = rows.filter((r) => r.released < fix.fixedOn);
  const after = rows.filter((r) => r.released >= fix.fixedOn);
  // The CU never got the fix, or shipped with it: any build of it says so.
  if (after.length === 0) return 'vulnerable';
  if (before.length === 0) return 'patched';
  if (rev === null) return 'unknown';
  const firstFixed = after[0] as Row;
  const lastVulnerable = before[before.length - 1] as Row;
  if (rev >= firstFixed.rev) return 'patched';
  if (rev <= lastVulnerable.rev) return 'vulnerable';
  return 'unknown';
}

const SEVERITY: Readonly<Record<FamilyStatus, number>> = {
  vulnerable: 3,
  unknown: 2,
  patched: 1,
  'not-affected': 0,
};

/** The worst of several servers' statuses: one vulnerable server is enough. */
export function worstStatus(statuses: readonly FamilyStatus[]): FamilyStatus {
  let worst: FamilyStatus = 'not-affected';
  for (const s of statuses) if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}
