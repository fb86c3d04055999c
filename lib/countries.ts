/**
 * Countries the shop ships to: ISO 3166-1 alpha-2 code, English name and the
 * shape of a postal code there. Used by transaction verification (address
 * consistency) and fraud detection (card brand vs billing country).
 *
 * @module
 */

/** A country and its postal-code shape. */
export interface Country {
  /** ISO 3166-1 alpha-2 code. */
  code: string;
  /** English name. */
  name: string;
  /** Postal code pattern; `undefined` where the country has none. */
  zip?: RegExp;
  /** Whether a state/province/region is required. */
  needsState?: boolean;
}

const GENERIC = /^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/;

/** The supported countries. */
export const COUNTRIES: readonly Country[] = [
  { code: "US", name: "United States", zip: /^\d{5}(-\d{4})?$/, needsState: true },
  { code: "CA", name: "Canada", zip: /^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$/, needsState: true },
  { code: "GB", name: "United Kingdom", zip: /^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$/ },
  { code: "IE", name: "Ireland", zip: /^[A-Za-z]\d[\dWw] ?[A-Za-z\d]{4}$/ },
  { code: "DE", name: "Germany", zip: /^\d{5}$/ },
  { code: "FR", name: "France", zip: /^\d{5}$/ },
  { code: "ES", name: "Spain", zip: /^\d{5}$/ },
  { code: "IT", name: "Italy", zip: /^\d{5}$/ },
  { code: "PT", name: "Portugal", zip: /^\d{4}-\d{3}$/ },
  { code: "NL", name: "Netherlands", zip: /^\d{4} ?[A-Za-z]{2}$/ },
  { code: "BE", name: "Belgium", zip: /^\d{4}$/ },
  { code: "LU", name: "Luxembourg", zip: /^(L-)?\d{4}$/ },
  { code: "CH", name: "Switzerland", zip: /^\d{4}$/ },
  { code: "AT", name: "Austria", zip: /^\d{4}$/ },
  { code: "DK", name: "Denmark", zip: /^\d{4}$/ },
  { code: "NO", name: "Norway", zip: /^\d{4}$/ },
  { code: "SE", name: "Sweden", zip: /^\d{3} ?\d{2}$/ },
  { code: "FI", name: "Finland", zip: /^\d{5}$/ },
  { code: "EE", name: "Estonia", zip: /^\d{5}$/ },
  { code: "LV", name: "Latvia", zip: /^(LV-)?\d{4}$/ },
  { code: "LT", name: "Lithuania", zip: /^(LT-)?\d{5}$/ },
  { code: "PL", name: "Poland", zip: /^\d{2}-\d{3}$/ },
  { code: "CZ", name: "Czechia", zip: /^\d{3} ?\d{2}$/ },
  { code: "SK", name: "Slovakia", zip: /^\d{3} ?\d{2}$/ },
  { code: "HU", name: "Hungary", zip: /^\d{4}$/ },
  { code: "RO", name: "Romania", zip: /^\d{6}$/ },
  { code: "GR", name: "Greece", zip: /^\d{3} ?\d{2}$/ },
  { code: "UA", name: "Ukraine", zip: /^\d{5}$/ },
  { code: "TR", name: "Turkey", zip: /^\d{5}$/ },
  { code: "IL", name: "Israel", zip: /^\d{7}$/ },
  { code: "AE", name: "United Arab Emirates" },
  { code: "IN", name: "India", zip: /^\d{6}$/ },
  { code: "CN", name: "China", zip: /^\d{6}$/ },
  { code: "HK", name: "Hong Kong" },
  { code: "JP", name: "Japan", zip: /^\d{3}-?\d{4}$/ },
  { code: "KR", name: "South Korea", zip: /^\d{5}$/ },
  { code: "SG", name: "Singapore", zip: /^\d{6}$/ },
  { code: "AU", name: "Australia", zip: /^\d{4}$/, needsState: true },
  { code: "NZ", name: "New Zealand", zip: /^\d{4}$/ },
  { code: "BR", name: "Brazil", zip: /^\d{5}-?\d{3}$/, needsState: true },
  { code: "MX", name: "Mexico", zip: /^\d{5}$/ },
  { code: "AR", name: "Argentina", zip: /^([A-Za-z]\d{4}[A-Za-z]{3}|\d{4})$/ },
  { code: "ZA", name: "South Africa", zip: /^\d{4}$/ },
  { code: "NG", name: "Nigeria", zip: /^\d{6}$/ },
  { code: "KE", name: "Kenya", zip: /^\d{5}$/ },
  { code: "EG", name: "Egypt", zip: /^\d{5}$/ },
];

const BY_KEY = new Map<string, Country>();
for (const country of COUNTRIES) {
  BY_KEY.set(country.code.toLowerCase(), country);
  BY_KEY.set(country.name.toLowerCase(), country);
}
for (
  const [alias, code] of [
    ["usa", "US"],
    ["uk", "GB"],
    ["great britain", "GB"],
    ["england", "GB"],
    ["czech republic", "CZ"],
    ["holland", "NL"],
    ["uae", "AE"],
    ["korea", "KR"],
    ["united states of america", "US"],
  ] as const
) {
  BY_KEY.set(alias, BY_KEY.get(code.toLowerCase())!);
}

/** The country a code or English name refers to, case-insensitively. */
export function findCountry(value: string): Country | undefined {
  return BY_KEY.get(value.trim().toLowerCase());
}

/** Whether `zip` has the postal-code shape of `country`. */
export function zipMatches(country: Country, zip: string): boolean {
  const trimmed = zip.trim();
  if (!country.zip) return trimmed === "" || GENERIC.test(trimmed);
  return country.zip.test(trimmed);
}
