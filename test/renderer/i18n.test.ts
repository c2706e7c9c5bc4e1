import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { locales } from '../../protocol/kiosk-api.js';
import { en, type MessageKey } from '../../renderer/src/i18n/en.js';
import { catalogs, formatDuration, formatPercent, localeChoices, translate } from '../../renderer/src/i18n/index.js';

const keys = Object.keys(en) as MessageKey[];
const srcDir = fileURLToPath(new URL('../../renderer/src/', import.meta.url));
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const texts = (message: unknown): string[] => (typeof message === 'string' ? [message] : Object.values(message as Record<string, string>));

describe('i18n catalogs', () => {
  it('has a catalog and a language button for every locale of the kiosk API', () => {
    expect(Object.keys(catalogs).sort()).toEqual([...locales].sort());
    expect(localeChoices.map((c) => c.code).sort()).toEqual([...locales].sort());
  });

  it.each(locales)('%s has exactly the English keys, none empty', (locale) => {
    const catalog = catalogs[locale];
    expect(Object.keys(catalog).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      for (const text of texts(catalog[key])) expect(text.trim(), `${locale} ${key}`).not.toBe('');
    }
  });

  it.each(locales)('%s uses the same placeholders as English', (locale) => {
    for (const key of keys) {
      const expected = placeholders(texts(en[key])[0] ?? '');
      for (const text of texts(catalogs[locale][key])) expect(placeholders(text), `${locale} ${key}`).toEqual(expected);
    }
  });

  it.each(locales)('%s has every plural form its language needs', (locale) => {
    const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
    for (const key of keys) {
      const message = catalogs[locale][key];
      if (typeof message === 'string') continue;
      for (const category of categories) expect(message[category], `${locale} ${key} ${category}`).toBeTruthy();
    }
  });

  it('is really translated: no locale but English reuses the English wording of the screen titles', () => {
    for (const locale of locales.filter((l) => l !== 'en')) {
      expect(translate(locale, 'idle.startRide')).not.toBe(en['idle.startRide']);
      expect(translate(locale, 'awaiting.waiting')).not.toBe(en['awaiting.waiting']);
    }
  });
});

describe('translate', () => {
  it('picks plural forms with Intl.PluralRules', () => {
    expect(translate('en', 'offline.queued', { n: 1 })).toBe('payment queued');
    expect(translate('en', 'offline.queued', { n: 3 })).toBe('payments queued');
    expect(translate('sv', 'offline.queued', { n: 0 })).toBe('betalningar i kö');
    expect(translate('fi', 'pending.rides', { n: 1 })).toBe('aiempi kyyti odottaa maksua');
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'header.cab', { id: 'Taxi 42' })).toBe('Cab Taxi 42');
    expect(translate('en', 'header.cab')).toBe('Cab {id}');
  });

  it('refuses a plural message without a count', () => {
    expect(() => translate('en', 'offline.queued')).toThrow(/numeric `n`/);
  });
});

describe('locale formatting', () => {
  it('says how long the kiosk has been offline, in words', () => {
    expect(formatDuration(42_000, 'en')).toBe('42 seconds');
    expect(formatDuration(3 * 60_000 + 5_000, 'en')).toBe('3 minutes');
    expect(formatDuration(65 * 60_000, 'en')).toBe('1 hour 5 minutes');
    expect(formatDuration(-5, 'en')).toBe('0 seconds');
    expect(formatDuration(2 * 60_000, 'sv')).toBe('2 minuter');
  });

  it('formats VAT rates as percentages', () => {
    expect(formatPercent(6, 'en')).toBe('6%');
    expect(formatPercent(25, 'sv').replace(/\s/g, ' ')).toBe('25 %');
  });
});

describe('i18n usage', () => {
  it('has no dead strings: every key is used by the renderer', () => {
    const sources = readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(ts|tsx)$/.test(f) && !f.startsWith('i18n'))
      .map((f) => readFileSync(path.join(srcDir, f), 'utf8'))
      .join('\n');
    // Keys built at run time from a kind or state, e.g. t(`line.${kind}`).
    const dynamic = [...sources.matchAll(/t\(`([a-z]+)\.\$\{/g)].map((m) => `${m[1]}.`);
    const unused = keys.filter((key) => !sources.includes(`'${key}'`) && !dynamic.some((p) => key.startsWith(p)));
    expect(unused).toEqual([]);
  });
});
