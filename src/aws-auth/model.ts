import { AccessPrincipalType, BoundPrincipal } from '../principal';
import { show } from '../private/errors';

/** One aws-auth entry as rendered (values may contain tokens). */
export interface AwsAuthEntry {
  readonly type: AccessPrincipalType;
  readonly arn: string;
  readonly username: string;
  readonly groups: string[];
}

interface MutableEntry {
  readonly type: AccessPrincipalType;
  readonly key: string;
  /** spellings of the ARN seen (they differ only in case) -> default username of that spelling */
  readonly variants: Map<string, string>;
  explicit?: { username: string; grant: string };
  readonly groups: Set<string>;
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

  /**
   * Records one grant. Throws when the grant sets a username that differs from one an
   * earlier grant set for the same principal.
   *
   * @returns true when this principal had no entry yet
   */
  public add(principal: BoundPrincipal, grant: string, groups: string[], username: string | undefined, where: string): boolean {
    let entry = this.entries.get(principal.key);
    const isNew = entry === undefined;
    if (!entry) {
      entry = { type: principal.type, key: principal.key, variants: new Map(), groups: new Set() };
      this.entries.set(principal.key, entry);
    }
    if (username !== undefined) {
      if (entry.explicit && entry.explicit.username !== username) {
        throw new Error(`${where}: ${grant} sets the username ${show(username)} for ${principal.mappedArn}, but ${entry.explicit.grant} set ${show(entry.explicit.username)}. One principal has one aws-auth entry and so one username: give both grants the same username, or leave it out of one of them.`);
      }
      entry.explicit = entry.explicit ?? { username, grant };
    }
    if (!entry.variants.has(principal.mappedArn)) entry.variants.set(principal.mappedArn, principal.defaultUsername);
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
    return Array.from(this.entries.values())
      .filter(e => e.type === type)
      .map(render)
      .sort((a, b) => compare(a.arn.toLowerCase(), b.arn.toLowerCase()) || compare(a.arn, b.arn));
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
  return { type: entry.type, arn, username, groups };
}
