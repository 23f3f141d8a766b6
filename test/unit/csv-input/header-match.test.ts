import { describe, expect, it } from 'vitest';
import {
  fuzzyHeaderColumn,
  headerKey,
  knownHeaderColumn,
} from '../../../src/adapters/csv-input/header-match.js';

describe('headerKey', () => {
  it.each([
    ['Domain', 'domain'],
    ['  DOMAIN\t', 'domain'],
    ['Domain_Name', 'domain name'],
    ['domain  name', 'domain name'],
    ['Domain _ Name', 'domain name'],
    ['E-Mail', 'e-mail'],
    ['Host\u00a0Name', 'host name'],
    ['', ''],
  ])('%j → %j', (cell, key) => {
    expect(headerKey(cell)).toBe(key);
  });
});

/** The column of a header row, as the layout asks: known names, then fuzzy. */
const column = (cells: string[]): number => {
  const keys = cells.map(headerKey);
  const known = knownHeaderColumn(keys);
  return known !== -1 ? known : fuzzyHeaderColumn(cells, keys);
};

describe('knownHeaderColumn', () => {
  const cases: [string[], number][] = [
    [['client', 'domain'], 1],
    [['Client', 'DOMAIN'], 1],
    [['Domain Name', 'x'], 0],
    [['domain_name', 'x'], 0],
    [['x', 'DomainName'], 1],
    [['Domains'], 0],
    [['x', 'website'], 1],
    [['x', 'Web'], 1],
    [['URL'], 0],
    [['homepage'], 0],
    [['E-mail'], 0],
    [['email'], 0],
    [['Mail'], 0],
    [['host'], 0],
    [['Hostname'], 0],
    [['FQDN'], 0],
    // preference follows the list, not the column order
    [['email', 'website', 'domain'], 2],
    [['url', 'host'], 0],
    [['host', 'url'], 1],
    // near misses: not known names
    [['domian'], -1],
    [['hosts'], -1],
    [['e mail'], -1],
    [['web site'], -1],
    [['urls'], -1],
    [[], -1],
  ];
  it.each(cases)('%j → %d', (cells, index) => {
    expect(knownHeaderColumn(cells.map(headerKey))).toBe(index);
  });
});

describe('fuzzyHeaderColumn', () => {
  const cases: [string[], number][] = [
    [['Client', 'Client Domain'], 1],
    [['Kunde', 'Domainname'], 1],
    [['Website URL', 'x'], 0],
    [['Web Site', 'x'], 0],
    [['x', 'Company Homepage'], 1],
    [['x', 'URL (main)'], 1],
    [['E-Mail Adresse', 'x'], 0],
    [['x', 'Email address'], 1],
    [['contact mail', 'x'], 0],
    [['Host Names'], 0],
    [['primary_hostname'], 0],
    [['FQDN (server)'], 0],
    // a domain name beats a web name, wherever it stands
    [['Website', 'Client Domain'], 1],
    [['Contact Email', 'Main Website'], 1],
    // near misses
    [['webmaster'], -1],
    [['urls'], -1],
    [['ghost'], -1],
    [['hosting'], -1],
    [['mailbox size'], -1],
    [['name', 'notes'], -1],
    // cells that read as data, not as a name
    [['domain.com'], -1],
    [['client', 'www.domain-shop.de'], -1],
    [['mailto:domain'], -1],
    [['info@domain'], -1],
    // a row holding a domain is data: no header at all
    [['Client Domain', 'example.com'], -1],
  ];
  it.each(cases)('%j → %d', (cells, index) => {
    expect(fuzzyHeaderColumn(cells, cells.map(headerKey))).toBe(index);
  });

  it('comes after the known names', () => {
    expect(column(['Client Domain', 'url'])).toBe(1);
    expect(column(['Client Domain', 'notes'])).toBe(0);
  });
});
