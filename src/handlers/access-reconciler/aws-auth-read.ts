// yaml is bundled into the handler at build time (esbuild), and a dependency of the
// package for the command line, which reads aws-auth with this file.
import * as YAML from 'yaml';
import { PARTITIONS } from '../../private/constants';
import { codePoint } from '../../private/errors';

/**
 * aws-auth read exactly as aws-iam-authenticator reads it (kubernetes-sigs/aws-iam-authenticator,
 * pkg/mapper/configmap/configmap.go `ParseMap`, pkg/config/mapper.go, pkg/config/types.go),
 * with the source position of every item, so that a writer can edit the text around them.
 *
 * What the authenticator does, and this file with it:
 * - a section that is absent, blank, `""` or two backticks is empty (`isSkippable`);
 * - each section goes YAML → JSON through sigs.k8s.io/yaml (go-yaml v2): plain scalars are
 *   resolved as YAML 1.1 (`yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0777` is octal), but
 *   timestamps stay strings and there are no base-60 numbers; of duplicate keys the last wins;
 * - the JSON is decoded by Go's encoding/json into `[]RoleMapping`/`[]UserMapping`: keys match
 *   field names case-insensitively (sigs.k8s.io/yaml emits them sorted, so of `RoleArn` and
 *   `rolearn` the latter wins), a value of the wrong type leaves its field empty;
 * - a section that does not parse, or is not a list, is dropped whole; an item that fails
 *   `Validate()` (no `rolearn` and no `sso`, both, a bad `sso`; no `userarn`) is dropped alone;
 * - role mappings are keyed by lower-cased `rolearn` (the last duplicate wins) and match
 *   literally, case-insensitively (`*` in `rolearn` is no wildcard); `sso` mappings match
 *   `arn:aws:iam::<accountID>:role/AWSReservedSSO_<permissionSetName>_*`, and nothing when
 *   they name a `partition`; user mappings match case-insensitively; `mapRoles` is looked up
 *   before `mapUsers` (`resolveIdentity`).
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
  /**
   * With `state: 'invalid'`: the section may be valid to go-yaml, but uses YAML this library
   * does not read exactly as go-yaml does, so it is treated as unreadable (nothing is written
   * into it; the stack's own lines, found exactly as it wrote them, can still be taken out).
   */
  readonly unsupported?: true;
  readonly items: SectionItem[];
  /** The section's text as read ('' when absent). */
  readonly text: string;
  /** The parsed document (for `state: 'list'`): positions of the sequence. */
  readonly seq?: YAML.YAMLSeq;
  /**
   * An item has a field of the wrong type (`groups: system:masters`). aws-iam-authenticator
   * v0.7.18 logs the decode error and keeps the item with that field empty, and every other
   * item of the section (checked against it: test/real/aws-auth-reader.test.ts).
   */
  readonly typeErrors?: string;
}

/** go-yaml v2's scalar resolution: YAML 1.1 without timestamps and base-60 numbers. */
const GO_YAML_V2: YAML.ParseOptions & YAML.DocumentOptions & YAML.SchemaOptions = {
  version: '1.1',
  uniqueKeys: false,
  prettyErrors: false,
  customTags: tags => tags.filter(t => typeof t === 'string'
    || (t.tag !== 'tag:yaml.org,2002:timestamp' && (t as { format?: string }).format !== 'TIME')),
};

/**
 * The first character go-yaml v2 refuses anywhere in a document ("control characters are not
 * allowed", yaml.v2 readerc.go `yaml_parser_update_buffer`): it accepts only tab, line feed,
 * carriage return, printable ASCII, NEL (U+0085), U+00A0–U+D7FF, U+E000–U+FFFD and
 * U+10000–U+10FFFF. Lone surrogates cannot reach it as UTF-8 either.
 */
export function goYamlRefusedCharacter(text: string): string | undefined {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const allowed = c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0x7e) || c === 0x85
      || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (!allowed) return ch;
  }
  return undefined;
}

/**
 * Where the yaml package and go-yaml v2 (with sigs.k8s.io/yaml's conversion to JSON) read one
 * text differently, found by the differential tests against aws-iam-authenticator's own reader
 * (test/real/aws-auth-reader.test.ts, its generated documents and aws-auth-cases.json):
 * - what go-yaml or the conversion fails on, and so drops the section: a plain scalar in a
 *   flow collection holding `?`, `[`, `]`, `{` or `}`; a key that is null, a mapping or a list
 *   (an unquoted `{{SessionName}}`); the escapes `\/` and `\uD800`–`\uDFFF`;
 * - what the library does not read exactly as go-yaml does, it does not read at all
 *   (`unsupported`: the reconciler then writes nothing into the section but takes out its own
 *   lines, the safe side): explicit tags, merge keys, numbers go-yaml parses with Go's strconv
 *   (`0o17`, `0X1F`, `1_000`, `1e400`), a `?` key in a flow collection.
 */
function unlikeGoYaml(source: string, doc: YAML.Document.Parsed): { reason: string; unsupported?: boolean } | undefined {
  let found: { reason: string; unsupported?: boolean } | undefined;
  const text = (node: YAML.Node) => (node.range ? source.slice(node.range[0], node.range[1]) : String((node as YAML.Scalar).source ?? ''));
  YAML.visit(doc, (_key, node, path) => {
    if (YAML.isPair(node) && YAML.isScalar(node.key) && (node.key.value === '<<' || node.key.source === '<<')) {
      // go-yaml and the yaml package apply a merge key in different orders
      found = { reason: 'written with a merge key (<<), which go-yaml and this library apply differently', unsupported: true };
      return YAML.visit.BREAK;
    }
    if (YAML.isPair(node)) {
      // sigs.k8s.io/yaml turns the section into JSON, whose keys are strings: a key that is a
      // mapping, a list or null fails the conversion ("invalid map key"), the section is dropped
      const k = node.key;
      if (YAML.isCollection(k) || k === null || (YAML.isScalar(k) && k.value === null)) {
        found = { reason: `not convertible to JSON (a key that is ${YAML.isCollection(k) ? 'a mapping or a list' : 'null or empty'}, e.g. an unquoted {{SessionName}})` };
        return YAML.visit.BREAK;
      }
      return undefined;
    }
    if (!YAML.isNode(node)) return undefined;
    if (node.tag !== undefined) {
      found = { reason: `written with the YAML tag ${node.tag}, which this library does not read`, unsupported: true };
      return YAML.visit.BREAK;
    }
    if (!YAML.isScalar(node)) return undefined;
    const raw = text(node);
    if (node.type === 'QUOTE_DOUBLE') {
      // go-yaml knows YAML 1.1's escapes: not JSON's "\/", and no escaped surrogate (a pair included)
      for (const m of raw.matchAll(/\\(u[0-9a-fA-F]{4}|.)/gs)) {
        if (m[1] === '/' || /^u[dD][89a-fA-F]/.test(m[1])) {
          found = { reason: `not valid YAML (go-yaml: the escape \\${m[1]} in ${raw.slice(0, 40)})` };
          return YAML.visit.BREAK;
        }
      }
    }
    if (node.type !== 'PLAIN') return undefined;
    if (path.some(p => YAML.isCollection(p) && p.flow)) {
      const indicator = /[?[\]{}]/.exec(raw);
      if (indicator) {
        // at the start, "?" makes go-yaml read a key ([?x] is {x: null}); anywhere else it fails
        found = indicator.index === 0
          ? { reason: `written with ${JSON.stringify(raw)} in a flow collection, which go-yaml reads as a key and this library does not read`, unsupported: true }
          : { reason: `not valid YAML (go-yaml: the plain value ${JSON.stringify(raw)} in a flow collection holds ${JSON.stringify(indicator[0])}; quote it)` };
        return YAML.visit.BREAK;
      }
    }
    // numbers go-yaml (strconv, base prefixes and "_" allowed) and the yaml package read differently
    const num = node.value;
    const goNumber = /^[-+]?(0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?)$/.test(raw);
    if ((typeof num === 'string' && goNumber) || (typeof num === 'number' && !Number.isFinite(num) && !/^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/.test(raw))) {
      found = { reason: `written with the number ${JSON.stringify(raw)}, which go-yaml and this library read differently`, unsupported: true };
      return YAML.visit.BREAK;
    }
    return undefined;
  });
  return found;
}

/** A number JSON cannot hold (infinity, NaN), or `'cycle'` for a value that contains itself (an anchor inside its own alias). */
function findNonFinite(value: unknown, path: Set<object> = new Set()): number | 'cycle' | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : value;
  if (value === null || typeof value !== 'object') return undefined;
  if (path.has(value)) return 'cycle';
  path.add(value);
  const values: unknown[] = value instanceof Map ? [...value.keys(), ...value.values()] : Array.isArray(value) ? value : Object.values(value);
  for (const v of values) {
    const found = findNonFinite(v, path);
    if (found !== undefined) return found;
  }
  path.delete(value);
  return undefined;
}

/** The authenticator's `isSkippable`: blank, `""` or two backticks. */
function isSkippable(text: string): boolean {
  const t = text.trim();
  return t === '' || t === '""' || t === '``';
}

/**
 * Go's encoding/json folds a key to a field name with Unicode simple folding: besides case,
 * U+017F (long s) is "s" and U+212A (Kelvin sign) is "k".
 */
function goFold(key: string): string {
  return key.replace(/\u017f/g, 's').replace(/\u212a/g, 'k').toLowerCase();
}

/** A JSON object's field as Go's encoding/json finds it: keys sorted, matched with Go's folding, the last wins. */
function goField(obj: Record<string, unknown>, field: string): unknown {
  let value: unknown;
  for (const key of Object.keys(obj).sort()) {
    if (goFold(key) === field.toLowerCase()) value = obj[key];
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
  if (sso.partition !== '' && !PARTITIONS.includes(sso.partition)) return 'invalid';
  return sso;
}

/** Reads one section of aws-auth as the authenticator does. */
export function readSection(section: Section, text: string | undefined): ParsedSection {
  const source = text ?? '';
  if (isSkippable(source)) return { state: 'empty', items: [], text: source };
  const refused = goYamlRefusedCharacter(source);
  if (refused !== undefined) return { state: 'invalid', reason: `not valid YAML (it holds the character ${codePoint(refused)}; go-yaml: control characters are not allowed)`, items: [], text: source };
  // line breaks go-yaml knows and the yaml package does not (U+2028, U+2029, a lone CR), and a
  // byte-order mark after the start, which go-yaml skips at a line's start
  const odd = /[\u2028\u2029]|\r(?!\n)/.exec(source) ?? /\ufeff/.exec(source.slice(1));
  if (odd) return { state: 'invalid', reason: `written with ${codePoint(odd[0])}, which go-yaml reads as a line break or a byte-order mark and this library does not read`, unsupported: true, items: [], text: source };
  // go-yaml v2 reads NEL (U+0085) as a line break and turns it into a line feed wherever it
  // reads one (scannerc.go `read_line`); the yaml package does not. One code unit for one, so
  // every position still points into `source`.
  const doc = YAML.parseDocument(source.replace(/\u0085/g, '\n'), GO_YAML_V2);
  // The yaml package is stricter than go-yaml in places (indentation inside flow collections),
  // so what it cannot parse, go-yaml may still read: unreadable here, never written into.
  if (doc.errors.length > 0) return { state: 'invalid', reason: `not YAML that this library can read (${doc.errors[0].message.split('\n')[0]})`, unsupported: true, items: [], text: source };
  const unlike = unlikeGoYaml(source, doc);
  if (unlike) return { state: 'invalid', reason: unlike.reason, ...(unlike.unsupported ? { unsupported: true } : {}), items: [], text: source };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // an alias to no anchor, or too many aliases: go-yaml fails the section too
    return { state: 'invalid', reason: `not valid YAML (${(e as Error).message.split('\n')[0]})`, items: [], text: source };
  }
  // sigs.k8s.io/yaml turns the section into JSON, which has no infinity or NaN: a `.inf` or
  // `.nan` anywhere fails the conversion ("json: unsupported value: +Inf"), the section is dropped
  const nonFinite = findNonFinite(value);
  if (nonFinite === 'cycle') return { state: 'invalid', reason: 'not valid YAML (an anchor used inside itself)', items: [], text: source };
  if (nonFinite !== undefined) return { state: 'invalid', reason: `not convertible to JSON (it holds the number ${nonFinite}, e.g. an unquoted .inf or .nan)`, items: [], text: source };
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

/**
 * Why an `invalid` section cannot take a grant, for messages: "aws-auth mapRoles is …".
 */
export function sectionProblem(section: Section, parsed: ParsedSection): string {
  return parsed.unsupported
    ? `aws-auth ${section} is ${parsed.reason}; aws-iam-authenticator may ignore all of it, and this library never writes into YAML it cannot read exactly as the authenticator does`
    : `aws-auth ${section} is ${parsed.reason}, so aws-iam-authenticator ignores all of it`;
}

/**
 * IAM's ArnLike as aws-iam-authenticator implements it (pkg/arn/arnlike.go): six
 * colon-separated sections (the last may hold colons), each a pattern where `*` is `.*` and
 * `?` is `.?` (zero or one character), `.` not matching a line break. The authenticator
 * compares lower-cased text (pkg/config/mapper.go lower-cases both).
 */
export function arnLike(arn: string, pattern: string): boolean {
  const split = (s: string) => {
    if (!s.startsWith('arn:')) return undefined;
    const parts = s.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const a = split(arn.toLowerCase());
  const p = split(pattern.toLowerCase());
  if (!a || !p) return false;
  return a.every((part, i) => new RegExp(`^${p[i].replace(/[\\.+()|[\]{}^$]/g, '\\$&').replace(/[*?]/g, '.$&')}$`).test(part));
}

/**
 * The ARN pattern of an `sso` mapping, which is also its key (pkg/config/mapper.go
 * `SSOArnLike`). The release sets the partition only when the field is empty, so a mapping
 * that names its partition gets the pattern `arn::iam::…`, which no ARN matches.
 */
export function ssoArnLike(sso: SsoMatcher): string {
  const partition = sso.partition === '' ? 'aws' : '';
  return `arn:${partition}:iam::${sso.accountID}:role/AWSReservedSSO_${sso.permissionSetName}_*`.toLowerCase();
}

/**
 * Whether the authenticator would use `item` for the principal `arn` (its canonical,
 * path-less ARN) when looking it up in `section` (pkg/config/mapper.go `Matches`, v0.7.18):
 * `rolearn` and `userarn` are compared literally and case-insensitively (a `*` in `rolearn` is
 * a character like any other, not a wildcard); only an `sso` mapping is a pattern, and only
 * without a `partition` (see `ssoArnLike`). `sso` mappings take effect only where the
 * authenticator runs with its SSORoleMatch feature gate on; this reading assumes it is on,
 * so that the reconciler never overlooks a mapping that may match.
 */
export function itemMatches(section: Section, item: SectionItem, arn: string): boolean {
  if (!item.valid) return false;
  if (section === 'mapUsers' || item.arn !== '') return item.arn.toLowerCase() === arn.toLowerCase();
  return arnLike(arn, ssoArnLike(item.sso!));
}

/** One answer the authenticator may give for a caller. */
export interface ResolvedIdentity {
  readonly section: Section;
  readonly username: string;
  readonly groups: string[];
}

/**
 * Every identity the authenticator may map the caller `arn` (canonical: path-less role ARN,
 * or user ARN) to, from aws-auth read by `readSection`: none (not mapped), one, or several
 * (which one it uses is random). As the release stores and looks mappings up
 * (pkg/mapper/configmap/configmap.go `saveMap`, `RoleMapping`, `UserMapping`; mapper.go `Map`):
 * valid items keyed by `Key()` (a role's lower-cased `rolearn` or its SSO pattern; a user's
 * `userarn` as written), a later item replacing an earlier one of the same key; role mappings
 * first, then user mappings; each map iterated in random order.
 */
export function resolveIdentity(sections: Record<Section, ParsedSection>, arn: string): ResolvedIdentity[] {
  for (const section of SECTIONS) {
    const byKey = new Map<string, SectionItem>();
    for (const item of sections[section].items) {
      if (!item.valid) continue;
      const key = section === 'mapUsers' ? item.arn : item.arn !== '' ? item.arn.toLowerCase() : ssoArnLike(item.sso!);
      byKey.delete(key);
      byKey.set(key, item);
    }
    const found: ResolvedIdentity[] = [];
    const seen = new Set<string>();
    for (const item of byKey.values()) {
      if (!itemMatches(section, item, arn)) continue;
      const identity = { section, username: item.username, groups: item.groups };
      const id = JSON.stringify(identity);
      if (!seen.has(id)) found.push(identity);
      seen.add(id);
    }
    if (found.length > 0) return found;
  }
  return [];
}
