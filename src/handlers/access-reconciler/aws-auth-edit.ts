import { ParsedSection } from './aws-auth-read';

/**
 * Edits one aws-auth section as text: removes or replaces the items named, appends new
 * ones, and leaves every other byte as it was (other people's entries, their quoting and
 * layout, comments, blank lines). A YAML library re-serializing the document would change
 * all of those, which is why this is written here: the reconciler exists to never change
 * what it did not write. Positions come from the `yaml` parser (`readSection`).
 *
 * New and replaced items are written as one-line JSON mappings (`- {"rolearn": …}` in a
 * block sequence, `{…}` in a flow one): JSON is YAML and reads the same in YAML 1.1 and 1.2.
 */
export interface SectionEdits {
  /** Items to remove, by index. */
  readonly remove?: ReadonlySet<number>;
  /**
   * Items to replace, by index: the new item as JSON text, or `{ raw }`: the item's whole
   * source as `itemSource` gave it (an entry put back as it was found).
   */
  readonly replace?: ReadonlyMap<number, string | { readonly raw: string }>;
  /** New items (JSON text), appended after the last item. */
  readonly append?: readonly string[];
}

/**
 * An aws-auth item as one-line JSON that go-yaml v2 reads back to the same values. JSON is
 * YAML, and JSON.stringify escapes C0 controls, but it leaves DEL, C1 controls, U+2028,
 * U+2029, U+FEFF, U+FFFE and U+FFFF raw: go-yaml refuses some of them ("control characters
 * are not allowed": the whole section dropped) and reads the others as line breaks. Each is
 * written as a `\uXXXX` escape instead, which go-yaml decodes in a double-quoted scalar.
 * A lone surrogate has no such escape (go-yaml refuses `\ud800`): undefined, the caller refuses.
 */
export function itemJson(item: Record<string, unknown>): string | undefined {
  const json = JSON.stringify(item);
  if (/\\u[dD][89abAB]|\\u[dD][c-fC-F]/.test(json.replace(/\\\\/g, ''))) return undefined;
  return json.replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** The whole lines an item of a block sequence stands on: from its line's start (the `-`) to after its last line. */
function blockSpan(text: string, range: [number, number]): { start: number; end: number; indent: string } {
  let dash = range[0] - 1;
  while (dash >= 0 && text[dash] !== '-') dash--;
  const start = lineStart(text, dash);
  let end = range[1];
  if (end > 0 && text[end - 1] !== '\n') {
    const nl = text.indexOf('\n', end);
    end = nl < 0 ? text.length : nl + 1;
  }
  return { start, end, indent: text.slice(start, dash) };
}

/**
 * The whole source of an item, to put it back later exactly: in a block sequence the lines
 * it stands on (indent, `- `, comments on them), in a flow sequence its own text.
 */
export function itemSource(parsed: ParsedSection, index: number): string {
  const item = parsed.items[index];
  if (parsed.seq?.flow) return parsed.text.slice(item.range[0], item.range[1]);
  const span = blockSpan(parsed.text, item.range);
  const text = parsed.text.slice(span.start, span.end);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Applies `edits` to a section (any state; an empty or placeholder section is replaced by a new list). */
export function editSection(parsed: ParsedSection, edits: SectionEdits): string {
  const remove = edits.remove ?? new Set<number>();
  const replace = edits.replace ?? new Map<number, string>();
  const append = edits.append ?? [];
  const text = parsed.text;
  if (parsed.state !== 'list' || !parsed.seq) {
    if (parsed.state === 'invalid') throw new Error('an invalid section cannot be edited');
    return append.map(json => `- ${json}\n`).join('');
  }
  const items = parsed.items;
  if (parsed.seq.flow) {
    const kept: string[] = [];
    items.forEach((item, i) => {
      if (remove.has(i)) return;
      const r = replace.get(i);
      kept.push(r === undefined ? text.slice(item.range[0], item.range[1]) : typeof r === 'string' ? r : r.raw);
    });
    kept.push(...append);
    const open = parsed.seq.range![0];
    const prefix = items.length > 0 ? text.slice(0, items[0].range[0]) : text.slice(0, open + 1);
    const suffix = items.length > 0 ? text.slice(items[items.length - 1].range[1]) : text.slice(open + 1);
    const separator = items.length > 1 ? text.slice(items[0].range[1], items[1].range[0]) : ', ';
    return prefix + kept.join(separator) + suffix;
  }
  let out = '';
  let at = 0;
  let indent = '';
  let last = 0;
  items.forEach((item, i) => {
    const span = blockSpan(text, item.range);
    indent = span.indent;
    last = span.end;
    if (!remove.has(i) && !replace.has(i)) return;
    out += text.slice(at, span.start);
    const r = replace.get(i);
    // a flow item's text (the section was a flow sequence when it was taken) becomes an item line
    if (r !== undefined) out += typeof r === 'string' || !/^\s*-/.test(r.raw) ? `${span.indent}- ${typeof r === 'string' ? r : r.raw.trim()}\n` : r.raw;
    at = span.end;
  });
  out += text.slice(at, last);
  if (append.length > 0 && out.length > 0 && !out.endsWith('\n')) out += '\n';
  out += append.map(json => `${indent}- ${json}\n`).join('');
  return out + text.slice(Math.max(at, last));
}
