// eslint-disable-next-line import/no-extraneous-dependencies
import * as YAML from 'yaml';

/**
 * How aws-iam-authenticator reads aws-auth, re-implemented for the oracle (never the
 * product's parser). Read from kubernetes-sigs/aws-iam-authenticator:
 * - pkg/mapper/configmap/configmap.go `ParseMap`: each section goes through
 *   `utilyaml.ToJSON` (go-yaml v2 into interface{}, then JSON) and `json.Unmarshal` into
 *   `[]RoleMapping` / `[]UserMapping`; a section that does not parse is dropped whole;
 *   each entry is `Validate()`d and dropped alone when invalid; placeholder sections
 *   (`""`, two backticks, blank) are skipped (`isSkippable`).
 * - `saveMap`: a map keyed by `Key()` (the lower-cased role ARN, or the SSO ARN pattern),
 *   so the last of two entries for one ARN wins.
 * - pkg/mapper/configmap/mapper.go `Map`: role mappings are looked up before user mappings.
 * - pkg/config/mapper.go: `sso:` entries (permissionSetName, accountID, partition) match
 *   `arn:<partition>:iam::<account>:role/AWSReservedSSO_<set>_*`.
 * - pkg/config/types.go: json tags `rolearn`, `userarn`, `username`, `groups`, `sso`.
 * Go's encoding/json matches keys case-insensitively, and a value of the wrong type leaves
 * the field empty (the decode error is logged, the entry kept).
 * Checked against the released code itself by test/real/aws-auth-reader.test.ts.
 */

/** go-yaml v2 semantics: YAML 1.1 booleans (yes/no/on/off/y/n), but timestamps stay strings and no base-60 numbers. */
export const GO_YAML_V2: YAML.ParseOptions & YAML.DocumentOptions & YAML.SchemaOptions = {
  version: '1.1',
  schema: 'yaml-1.1',
  customTags: (tags: YAML.Tags) => tags.filter(t => !((t as any).tag === 'tag:yaml.org,2002:timestamp' || (t as any).format === 'TIME')),
};

export type Section = 'mapRoles' | 'mapUsers';
export const SECTIONS: Section[] = ['mapRoles', 'mapUsers'];

/** One validated mapping as the authenticator holds it. */
export interface Mapping {
  readonly section: Section;
  /** Lower-case ARN, or the SSO pattern (`arn:aws:iam::<acct>:role/awsreservedsso_<set>_*`). */
  readonly key: string;
  readonly sso: boolean;
  readonly username: string;
  readonly groups: string[];
}

/** What a principal authenticates as. */
export interface Identity {
  readonly username: string;
  readonly groups: string[];
}

function isSkippable(text: string): boolean {
  const t = text.trim();
  return t === '' || t === '``' || t === '""' || t === "''";
}

/** Go json.Unmarshal of an object into a struct: case-insensitive keys, later keys win, wrong types give zero values. */
function field(obj: Record<string, unknown>, name: string): unknown {
  let value: unknown;
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === name.toLowerCase()) value = v;
  return value;
}
const asString = (v: unknown): string => (typeof v === 'string' ? v : '');
const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(asString) : []);

/**
 * go-yaml v2's reader accepts only tab, LF, CR, printable ASCII, NEL and the non-control
 * ranges of Unicode (yaml.v2 readerc.go); anything else fails the whole document.
 */
function goYamlRejects(text: string): boolean {
  return Array.from(text).some(ch => {
    const c = ch.codePointAt(0)!;
    const printable = (c >= 32 && c <= 126) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    return !(printable || c === 9 || c === 10 || c === 13 || c === 0x85);
  });
}

/** Any infinity or NaN in a decoded value (sigs.k8s.io/yaml cannot turn it into JSON). */
function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  return v !== null && typeof v === 'object' && Object.values(v as object).some(hasNonFinite);
}

/** A plain scalar inside a flow collection holding an indicator go-yaml v2 stops at (then fails). */
function flowIndicatorInPlain(doc: YAML.Document.Parsed): boolean {
  let found = false;
  YAML.visit(doc, {
    Scalar(_k, node, path) {
      if (node.type === 'PLAIN' && path.some(p => YAML.isCollection(p) && p.flow) && /[?[\]{}]/.test(String(node.source ?? node.value))) found = true;
    },
  });
  return found;
}

/** Parses one section; returns the entries in order (invalid ones dropped), or undefined when the section is dropped whole. */
export function parseSection(section: Section, text: string | undefined): Mapping[] | undefined {
  if (text === undefined || isSkippable(text)) return [];
  if (goYamlRejects(text)) return undefined;
  let value: unknown;
  try {
    // NEL is a line break to go-yaml
    const doc = YAML.parseDocument(text.replace(/\u0085/g, '\n'), { ...GO_YAML_V2, uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length > 0 || flowIndicatorInPlain(doc)) return undefined;
    value = doc.toJS();
  } catch {
    return undefined;
  }
  if (hasNonFinite(value)) return undefined;
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) return undefined; // json: cannot unmarshal object into []RoleMapping
  const out: Mapping[] = [];
  for (const item of value) {
    if (item === null) {
      continue; // a null element decodes to a zero struct, which fails Validate
    }
    if (typeof item !== 'object' || Array.isArray(item)) continue; // type error: zero struct, invalid
    const o = item as Record<string, unknown>;
    const username = asString(field(o, 'username'));
    const groups = asStrings(field(o, 'groups'));
    if (section === 'mapUsers') {
      const arn = asString(field(o, 'userarn'));
      if (arn === '') continue;
      out.push({ section, key: arn.toLowerCase(), sso: false, username, groups });
      continue;
    }
    const arn = asString(field(o, 'rolearn'));
    const ssoRaw = field(o, 'sso');
    const sso = ssoRaw !== null && typeof ssoRaw === 'object' && !Array.isArray(ssoRaw) ? ssoRaw as Record<string, unknown> : undefined;
    if ((arn === '') === (sso === undefined)) continue; // exactly one of rolearn or sso
    if (sso) {
      const account = asString(field(sso, 'accountID'));
      const set = asString(field(sso, 'permissionSetName'));
      const partition = asString(field(sso, 'partition'));
      if (!/^[0-9]{12}$/.test(account) || !/^[\w+=,.@-]{1,32}$/.test(set)) continue;
      if (partition !== '' && !['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'].includes(partition)) continue;
      // SSOArnLike: the partition is "aws" when empty (and, as written upstream, empty otherwise)
      out.push({ section, key: `arn:${partition === '' ? 'aws' : ''}:iam::${account}:role/awsreservedsso_${set}_*`.toLowerCase(), sso: true, username, groups });
      continue;
    }
    out.push({ section, key: arn.toLowerCase(), sso: false, username, groups });
  }
  return out;
}

export interface AuthState {
  readonly roles: Map<string, Mapping>;
  readonly users: Map<string, Mapping>;
}

/** The authenticator's view of an aws-auth ConfigMap's data (undefined: no ConfigMap). */
export function load(data: Record<string, string> | undefined): AuthState {
  const roles = new Map<string, Mapping>();
  const users = new Map<string, Mapping>();
  for (const m of parseSection('mapRoles', data?.mapRoles) ?? []) roles.set(m.key, m);
  for (const m of parseSection('mapUsers', data?.mapUsers) ?? []) users.set(m.key, m);
  return { roles, users };
}

function ssoMatches(pattern: string, arn: string): boolean {
  const prefix = pattern.slice(0, -1);
  return arn.startsWith(prefix) && !arn.slice(prefix.length).includes('/');
}

/** What a caller with this canonical (path-less) ARN authenticates as, or undefined. */
export function resolve(state: AuthState, arn: string): Identity | undefined {
  const lower = arn.toLowerCase();
  const role = state.roles.get(lower) ?? Array.from(state.roles.values()).find(m => m.sso && ssoMatches(m.key, lower));
  if (role) return { username: role.username, groups: role.groups };
  const user = state.users.get(lower);
  if (user) return { username: user.username, groups: user.groups };
  return undefined;
}

/** The source text of each item of a section, in order (for the verbatim check); [] when it does not parse. */
export function itemTexts(text: string | undefined): string[] {
  if (!text || isSkippable(text)) return [];
  const doc = YAML.parseDocument(text, { ...GO_YAML_V2, uniqueKeys: false });
  if (doc.errors.length > 0 || !YAML.isSeq(doc.contents)) return [];
  return doc.contents.items.map(i => (YAML.isNode(i) && i.range ? text.slice(i.range[0], i.range[1]) : ''));
}

export function sameIdentity(a: Identity | undefined, b: Identity | undefined): boolean {
  if (!a || !b) return a === b;
  return a.username === b.username && JSON.stringify([...a.groups].sort()) === JSON.stringify([...b.groups].sort());
}
