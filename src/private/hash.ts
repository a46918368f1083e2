import { createHash } from 'crypto';

/** Lowercase hex SHA-256 of a string. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The first `bits` bits of the SHA-256 of a string, as a string of 0s and 1s. */
export function hashBits(value: string, bits: number): string {
  const hex = sha256Hex(value);
  let out = '';
  for (const ch of hex) {
    out += parseInt(ch, 16).toString(2).padStart(4, '0');
    if (out.length >= bits) break;
  }
  return out.slice(0, bits);
}

/** JSON with object keys sorted, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
