import * as YAML from 'yaml';
import { UsageError } from './command';

/**
 * aws-auth's three sections as text, from whichever form the input had: the ConfigMap as
 * `kubectl get configmap aws-auth -n kube-system -o yaml` (or `-o json`) prints it, or
 * `eksctl get iamidentitymapping -o json` (its items turned back into sections, so that one
 * reader, the reconciler's, reads every form).
 */
export interface AwsAuthInput {
  readonly format: 'configmap' | 'eksctl';
  readonly mapRoles?: string;
  readonly mapUsers?: string;
  readonly mapAccounts?: string;
  /** Problems of the input's form (not of its entries). */
  readonly warnings: string[];
}

/**
 * The JSON values of a text that holds one or more of them one after another (older eksctl
 * printed the accounts as a second array after the mappings). Each value is parsed by
 * `JSON.parse`; only where one ends is searched for.
 */
function jsonValues(text: string): unknown[] | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return [JSON.parse(trimmed)];
  } catch {
    // maybe several values: try every place where a list or object ends and another begins
  }
  const ends = /[\]}](?=\s*[[{])/g;
  for (let m = ends.exec(trimmed); m; m = ends.exec(trimmed)) {
    let first: unknown;
    try {
      first = JSON.parse(trimmed.slice(0, m.index + 1));
    } catch {
      continue;
    }
    const rest = jsonValues(trimmed.slice(m.index + 1));
    if (rest) return [first, ...rest];
  }
  return undefined;
}

function field(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find(k => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fromEksctl(values: unknown[], file: string): AwsAuthInput {
  const roles: unknown[] = [];
  const users: unknown[] = [];
  const accounts: unknown[] = [];
  const warnings: string[] = [];
  values.forEach((list, i) => {
    if (!Array.isArray(list)) throw new UsageError(`${file}: JSON value ${i + 1} is not a list; eksctl get iamidentitymapping -o json prints lists`);
    list.forEach((item, j) => {
      if (typeof item === 'string' || typeof item === 'number') {
        accounts.push(String(item)); // the older form's account list
      } else if (!isObject(item)) {
        warnings.push(`${file}: item ${j + 1} of list ${i + 1} is ${JSON.stringify(item)}, not a mapping: skipped`);
      } else if (field(item, 'userarn') !== undefined) {
        users.push(item);
      } else if (field(item, 'rolearn') !== undefined || field(item, 'sso') !== undefined) {
        roles.push(item);
      } else if (field(item, 'account') !== undefined) {
        accounts.push(String(field(item, 'account')));
      } else {
        warnings.push(`${file}: item ${j + 1} of list ${i + 1} has no rolearn, userarn, sso or account: skipped`);
      }
    });
  });
  return {
    format: 'eksctl',
    mapRoles: JSON.stringify(roles),
    mapUsers: JSON.stringify(users),
    ...(accounts.length > 0 ? { mapAccounts: JSON.stringify(accounts) } : {}),
    warnings,
  };
}

function fromConfigMap(doc: Record<string, unknown>, file: string): AwsAuthInput {
  let configMap = doc;
  const warnings: string[] = [];
  if (doc.kind === 'List' && Array.isArray(doc.items)) {
    const found = doc.items.filter(isObject).find(i => i.kind === 'ConfigMap' && isObject(i.metadata) && i.metadata.name === 'aws-auth');
    if (!found) throw new UsageError(`${file}: a List without the ConfigMap aws-auth; give the output of kubectl get configmap aws-auth -n kube-system -o yaml`);
    configMap = found;
  }
  if (configMap.kind !== undefined && configMap.kind !== 'ConfigMap') {
    throw new UsageError(`${file}: a ${String(configMap.kind)}, not the ConfigMap aws-auth or eksctl's identity mappings`);
  }
  const meta = isObject(configMap.metadata) ? configMap.metadata : {};
  if (meta.name !== undefined && meta.name !== 'aws-auth') warnings.push(`${file}: the ConfigMap is ${String(meta.name)}, not aws-auth; read as aws-auth anyway`);
  const data = configMap.data;
  if (data === undefined || data === null) return { format: 'configmap', warnings: [...warnings, `${file}: the ConfigMap has no data: nothing to import`] };
  if (!isObject(data)) throw new UsageError(`${file}: data is not a mapping`);
  const section = (name: string): string | undefined => {
    const value = data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new UsageError(`${file}: data.${name} is not a string (kubectl prints each section as one string of YAML)`);
    return value;
  };
  return { format: 'configmap', mapRoles: section('mapRoles'), mapUsers: section('mapUsers'), mapAccounts: section('mapAccounts'), warnings };
}

/** Reads an aws-auth export (see `AwsAuthInput`); throws a `UsageError` when it is none of the known forms. */
export function readAwsAuthInput(text: string, file: string): AwsAuthInput {
  const json = jsonValues(text);
  let values: unknown[];
  if (json) {
    values = json;
  } else {
    const docs = YAML.parseAllDocuments(text);
    const errors = Array.isArray(docs) ? docs.flatMap(d => d.errors) : [];
    if (!Array.isArray(docs) || errors.length > 0) {
      throw new UsageError(`${file}: neither JSON nor YAML (${errors[0]?.message.split('\n')[0] ?? 'empty'}); give the output of kubectl get configmap aws-auth -n kube-system -o yaml, or eksctl get iamidentitymapping -o json`);
    }
    values = docs.map(d => d.toJS()).filter(v => v !== null && v !== undefined);
  }
  if (values.length === 0) throw new UsageError(`${file}: empty`);
  if (values.every(v => Array.isArray(v))) return fromEksctl(values, file);
  if (values.length === 1 && isObject(values[0])) return fromConfigMap(values[0], file);
  throw new UsageError(`${file}: not an aws-auth ConfigMap (kubectl -o yaml or -o json) nor eksctl's identity mappings (eksctl get iamidentitymapping -o json)`);
}
