import { AuthenticatorAnswer, droppedWhole } from './components';
import { SECTIONS, load, parseSection, resolve } from '../handlers/lifecycle/authenticator';

/** The IAM role and user ARNs written in aws-auth's data (as callers to ask about it). */
export function arnsIn(data: Record<string, string>): string[] {
  return [...new Set(Object.values(data).join('\n').match(/arn:aws[\w-]*:iam::\d{12}:(?:role|user)\/[\w+=,.@/*?-]+/g) ?? [])];
}

/**
 * Where the lifecycle model's own reading of aws-auth (test/handlers/lifecycle/authenticator.ts,
 * the oracle's) disagrees with aws-iam-authenticator's answer for the same `data`: the oracle
 * must drop the same sections, and give each caller one of the answers the authenticator may
 * give (none when it gives none). Used on generated documents (aws-auth-reader.test.ts) and on
 * every aws-auth the lifecycle model sees on the real API server.
 */
export function oracleDisagreements(data: Record<string, string>, answer: AuthenticatorAnswer): string[] {
  const out: string[] = [];
  for (const s of SECTIONS) {
    const dropped = parseSection(s, data[s]) === undefined;
    if (dropped !== droppedWhole(answer.sectionErrors[s])) out.push(`${s}: oracle ${dropped ? 'drops' : 'reads'} it, authenticator ${answer.sectionErrors[s] ?? 'reads it'}`);
  }
  const state = load(data);
  for (const c of answer.callers) {
    if (!c.canonical) continue;
    const got = resolve(state, c.canonical);
    const ok = got === undefined ? c.mappings.length === 0
      : c.mappings.some(m => m.username === got.username && JSON.stringify(m.groups) === JSON.stringify(got.groups));
    if (!ok) out.push(`${c.caller}: oracle ${JSON.stringify(got)}, authenticator ${JSON.stringify(c.mappings)}`);
  }
  return out;
}
