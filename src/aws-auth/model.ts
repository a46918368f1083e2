import { AccessPrincipalType } from '../principal';
import { BoundPrincipal } from '../private/bound-principal';
import { show } from '../private/errors';

/** One aws-auth entry as rendered (values may contain tokens). */
export interface AwsAuthEntry {
  readonly type: AccessPrincipalType;
  readonly arn: string;
  readonly username: string;
  readonly groups: string[];
  /** The full ARN (with path) for access entries, when known. */
  readonly fullArn?: string;
  /** Full ARNs seen for this principal when they disagree (e.g. two different paths). */
  readonly conflictingFullArns: string[];
  /** Sorting and id key that does not depend on token numbering. */
  readonly stableKey: string;
}

interface MutableEntry {
  readonly type: AccessPrincipalType;
  readonly key: string;
  /** spellings of the ARN seen (they differ only in case) -> default username of that spelling */
  readonly variants: Map<string, string>;
  explicit?: { username: string; grant: string };
  readonly groups: Set<string>;
  readonly fullArns: Set<string>;
  stableKey: string;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The aws-auth entries declared by grants: one per principal (ARNs compared
 * case-insensitively), groups merged, usernames checked for conflicts. Rendering is
 * independent of the order grants were added in.
 */
export class AwsAuthModel {
  private readonly entries = new Map<string, MutableEntry>();
  /** rendered, sorted entries; dropped whenever a grant is added (rendering happens many times per synth) */
  private rendered?: AwsAuthEntry[];

  /**
   * Records one grant. Throws when the grant sets a username that differs from one an
   * earlier grant set for the same principal.
   *
   * @returns true when this principal had no entry yet
   */
  public add(principal: BoundPrincipal, grant: string, groups: string[], username: string | undefined, where: string): boolean {
    this.rendered = undefined;
    let entry = this.entries.get(principal.key);
    const isNew = entry === undefined;
    if (!entry) {
      entry = {
        type: principal.type,
        key: principal.key,
        variants: new Map(),
        groups: new Set(),
        fullArns: new Set(),
        stableKey: principal.stableKey,
      };
      this.entries.set(principal.key, entry);
    }
    if (username !== undefined) {
      if (entry.explicit && entry.explicit.username !== username) {
        throw new Error(`${where}: ${grant} sets the username ${show(username)} for ${principal.mappedArn}, but ${entry.explicit.grant} set ${show(entry.explicit.username)}. One principal has one aws-auth entry and so one username: give both grants the same username, or leave it out of one of them.`);
      }
      entry.explicit = entry.explicit ?? { username, grant };
    }
    if (!entry.variants.has(principal.mappedArn)) entry.variants.set(principal.mappedArn, principal.defaultUsername);
    if (principal.fullArn !== undefined) entry.fullArns.add(principal.fullArn);
    if (principal.stableKey < entry.stableKey) entry.stableKey = principal.stableKey;
    groups.forEach(g => entry!.groups.add(g));
    return isNew;
  }

  /** The entry for a principal as it renders now. */
  public entry(key: string): AwsAuthEntry | undefined {
    const entry = this.entries.get(key);
    return entry ? render(entry) : undefined;
  }

  /** All entries of one type, in a stable order (by ARN, case-insensitively). */
  public list(type: AccessPrincipalType): AwsAuthEntry[] {
    return this.all().filter(e => e.type === type);
  }

  /** All entries, roles and users, in a stable order. */
  public all(): AwsAuthEntry[] {
    this.rendered = this.rendered ?? Array.from(this.entries.values())
      .map(render)
      .sort((a, b) => compare(a.arn.toLowerCase(), b.arn.toLowerCase()) || compare(a.stableKey, b.stableKey));
    return [...this.rendered];
  }

  /** How many entries of one type there are. */
  public count(type: AccessPrincipalType): number {
    return Array.from(this.entries.values()).filter(e => e.type === type).length;
  }
}

function render(entry: MutableEntry): AwsAuthEntry {
  // Of several spellings of one ARN the smallest is rendered, so the order of grants does not matter.
  const arn = Array.from(entry.variants.keys()).sort(compare)[0];
  const groups = Array.from(entry.groups).sort(compare);
  const username = entry.explicit?.username ?? entry.variants.get(arn)!;
  // Full ARNs that differ only in case are one; several different paths are a conflict.
  const byLower = new Map<string, string>();
  for (const full of Array.from(entry.fullArns).sort(compare)) if (!byLower.has(full.toLowerCase())) byLower.set(full.toLowerCase(), full);
  const fullArns = Array.from(byLower.values());
  return {
    type: entry.type,
    arn,
    username,
    groups,
    // a path-less SSO ARN and the full ARN of the same role: the full one is known
    fullArn: fullArns[0],
    conflictingFullArns: fullArns.length > 1 ? fullArns : [],
    stableKey: entry.stableKey,
  };
}
