// yaml is bundled into the handler at build time (esbuild), and a dependency of the
// package for the command line, which reads aws-auth with this file.
import * as YAML from 'yaml';

/**
 * aws-auth read exactly as aws-iam-authenticator reads it (kubernetes-sigs/aws-iam-authenticator,
 * pkg/mapper/configmap/configmap.go `ParseMap`, pkg/config/mapper.go, pkg/config/types.go),
 * with the source position of every item, so that a writer can edit the text around them.
 *
 * What the authenticator does, and this file with it:
 * - a section that is absent, blank, `""` or two backticks is empty (`isSkippable`);
 * - each section goes YAML → JSON through sigs.k8s.io/yaml (go-yaml v2): plain scalars are
 *   resolved as YAML 1.1 (`yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0777` is octal), but
 *   timestamps stay strings and there are no base-60 numbers; duplicate keys fail the section;
 * - the JSON is decoded by Go's encoding/json into `[]RoleMapping`/`[]UserMapping`: keys match
 *   field names case-insensitively (sigs.k8s.io/yaml emits them sorted, so of `RoleArn` and
 *   `rolearn` the latter wins), a value of the wrong type leaves its field empty;
 * - a section that does not parse, or is not a list, is dropped whole; an item that fails
 *   `Validate()` (no `rolearn` and no `sso`, both, a bad `sso`; no `userarn`) is dropped alone;
 * - role mappings are keyed by lower-cased `rolearn` (the last duplicate wins) and match
 *   case-insensitively, `*`/`?` in `rolearn` as ArnLike wildcards; `sso` mappings match
 *   `arn:aws:iam::<accountID>:role/AWSReservedSSO_<permissionSetName>_*`; user mappings
 *   match case-insensitively; `mapRoles` is looked up before `mapUsers`.
 */

export type Section = 'mapRoles' | 'mapUsers';
export const SECTIONS: Section[] = ['mapRoles', 'mapUsers'];
export const ARN_KEY: Record<Section, 'rolearn' | 'userarn'> = { mapRoles: 'rolearn', mapUsers: 'userarn' };

/** An `sso` role mapping's matcher. */
export interface SsoMatcher {
  readonly permissionSetName: string;
  readonly accountID: string;
  readonly partition: string;
}

/** One item of a section, as the authenticator sees it, with where it stands in the text. */
export interface SectionItem {
  /** Position in the sequence. */
  readonly index: number;
  /** `rolearn` or `userarn` as decoded ('' when absent or not a string). */
  readonly arn: string;
  readonly username: string;
  readonly groups: string[];
  readonly sso?: SsoMatcher;
  /** Whether the authenticator keeps it (passes `Validate()`). */
  readonly valid: boolean;
  /** Source range of the item's node in the section text: [start, end). */
  readonly range: [number, number];
}

export interface ParsedSection {
  /**
   * `empty`: absent, blank or a placeholder; `list`: a sequence; `invalid`: the
   * authenticator drops the whole section (`reason` says why).
   */
  readonly state: 'empty' | 'list' | 'invalid';
  readonly reason?: string;
  readonly items: SectionItem[];
  /** The section's text as read ('' when absent). */
  readonly text: string;
  /** The parsed document (for `state: 'list'`): positions of the sequence. */
  readonly seq?: YAML.YAMLSeq;
  /**
   * An item has a field of the wrong type (`groups: system:masters`). Older authenticators
   * drop that field; newer ones drop the whole section and keep serving what they had read
   * before, so what is written into such a section may never take effect.
   */
  readonly typeErrors?: string;
}

/** go-yaml v2's scalar resolution: YAML 1.1 without timestamps and base-60 numbers. */
const GO_YAML_V2: YAML.ParseOptions & YAML.DocumentOptions & YAML.SchemaOptions = {
  version: '1.1',
  uniqueKeys: true,
  prettyErrors: false,
  customTags: tags => tags.filter(t => typeof t === 'string'
    || (t.tag !== 'tag:yaml.org,2002:timestamp' && (t as { format?: string }).format !== 'TIME')),
};

/** The authenticator's `isSkippable`: blank, `""` or two backticks. */
function isSkippable(text: string): boolean {
  const t = text.trim();
  return t === '' || t === '""' || t === '``';
}

/** A JSON object's field as Go's encoding/json finds it: keys sorted, matched case-insensitively, the last wins. */
function goField(obj: Record<string, unknown>, field: string): unknown {
  let value: unknown;
  for (const key of Object.keys(obj).sort()) {
    if (key.toLowerCase() === field.toLowerCase()) value = obj[key];
  }
  return value;
}

function goString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function goStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(v => goString(v)) : [];
}

const ACCOUNT_ID = /^[0-9]{12}$/;
const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;

function readSso(value: unknown): SsoMatcher | 'invalid' | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return 'invalid';
  const o = value as Record<string, unknown>;
  const sso = {
    permissionSetName: goString(goField(o, 'permissionSetName')),
    accountID: goString(goField(o, 'accountID')),
    partition: goString(goField(o, 'partition')),
  };
  if (!ACCOUNT_ID.test(sso.accountID) || !PERMISSION_SET_NAME.test(sso.permissionSetName)) return 'invalid';
  return sso;
}

/** Reads one section of aws-auth as the authenticator does. */
export function readSection(section: Section, text: string | undefined): ParsedSection {
  const source = text ?? '';
  if (isSkippable(source)) return { state: 'empty', items: [], text: source };
  const doc = YAML.parseDocument(source, GO_YAML_V2);
  if (doc.errors.length > 0) return { state: 'invalid', reason: `not valid YAML (${doc.errors[0].message.split('\n')[0]})`, items: [], text: source };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // an alias to no anchor, or too many aliases: go-yaml fails the section too
    return { state: 'invalid', reason: `not valid YAML (${(e as Error).message.split('\n')[0]})`, items: [], text: source };
  }
  // null, and an empty string (`''`): the authenticator fails to decode it into a list and
  // drops the section, so it maps nothing; a placeholder, like `""`
  if (value === null || value === undefined || value === '') return { state: 'empty', items: [], text: source };
  if (!Array.isArray(value) || !YAML.isSeq(doc.contents)) {
    return { state: 'invalid', reason: `not a list (${value === null ? 'null' : typeof value})`, items: [], text: source };
  }
  const nodes = doc.contents.items;
  let typeErrors: string | undefined;
  const items = value.map((raw: unknown, index: number): SectionItem => {
    const node = nodes[index] as YAML.Node | undefined;
    const range: [number, number] = node?.range ? [node.range[0], node.range[1]] : [0, 0];
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      // a JSON null decodes into a zero mapping, which fails Validate(); anything else fails the decode of that item
      return { index, arn: '', username: '', groups: [], valid: false, range };
    }
    const obj = raw as Record<string, unknown>;
    const wrong = Object.entries({ [ARN_KEY[section]]: 'string', username: 'string', groups: 'list' }).find(([f, kind]) => {
      const v = goField(obj, f);
      return v !== undefined && v !== null && (kind === 'string' ? typeof v !== 'string' : !Array.isArray(v) || v.some(g => typeof g !== 'string'));
    });
    if (wrong && !typeErrors) typeErrors = `item ${index + 1}'s ${wrong[0]} is not a ${wrong[1]} of strings`.replace('a string of strings', 'a string');
    const arn = goString(goField(obj, ARN_KEY[section]));
    const username = goString(goField(obj, 'username'));
    const groups = goStrings(goField(obj, 'groups'));
    if (section === 'mapUsers') return { index, arn, username, groups, valid: arn !== '', range };
    const sso = readSso(goField(obj, 'sso'));
    if (sso === 'invalid') return { index, arn, username, groups, valid: false, range };
    const valid = (arn !== '') !== (sso !== undefined);
    return { index, arn, username, groups, ...(sso ? { sso } : {}), valid, range };
  });
  return { state: 'list', items, text: source, seq: doc.contents, ...(typeErrors ? { typeErrors } : {}) };
}

/** One `*`/`?` glob, case-insensitively (ArnLike compares lower-cased ARNs in the authenticator). */
function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.toLowerCase().split('').map(c => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, 's');
  return re.test(value.toLowerCase());
}

/** IAM's ArnLike: six colon-separated parts (the last may hold colons), each a glob. */
export function arnLike(arn: string, pattern: string): boolean {
  const split = (s: string) => {
    const parts = s.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const a = split(arn);
  const p = split(pattern);
  if (!a || !p) return false;
  return a.every((part, i) => glob(p[i], part));
}

/**
 * Whether the authenticator would use `item` for the principal `arn` (its canonical,
 * path-less ARN) when looking it up in `section`. An `sso` mapping with an explicit
 * partition is taken to match that partition (the authenticator's SSOArnLike ignores it;
 * the stricter reading here only makes the reconciler refuse more, never less).
 */
export function itemMatches(section: Section, item: SectionItem, arn: string): boolean {
  if (!item.valid) return false;
  if (section === 'mapUsers') return item.arn.toLowerCase() === arn.toLowerCase();
  if (item.arn !== '') {
    return /[*?]/.test(item.arn) ? arnLike(arn, item.arn) : item.arn.toLowerCase() === arn.toLowerCase();
  }
  const sso = item.sso!;
  return arnLike(arn, `arn:${sso.partition || 'aws'}:iam::${sso.accountID}:role/AWSReservedSSO_${sso.permissionSetName}_*`);
}
