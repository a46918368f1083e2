import { AuthState, Identity, Section, itemTexts, load, parseSection, resolve, sameIdentity } from './authenticator';
import { ADMIN, Entry, KubeObject, NODE_ROLES, NodeGroup, Version, arnOf, objectContent, objectKey, objectPath } from './versions';

/**
 * The oracle: what must hold after every step, judged from the cluster's state as
 * aws-iam-authenticator and the API server see it, never by the product's own code.
 */

/**
 * THE SWITCH (issue 12: the other half of the decision is being made in the handler).
 * On a real stack delete (stack status DELETE_IN_PROGRESS known to the handler): entries
 * and RBAC objects this stack took over (from aws-eks's aws-auth manifest on upgrade, or
 * objects the previous release applied) are removed like the stack's own when true, kept
 * when false. Adopted entries (identical, unowned, already there) always stay. With the
 * stack status unknown, taken-over and adopted ones both stay.
 */
export const TAKEN_OVER_REMOVED_ON_REAL_DELETE = true;

export type Category =
  | 'foreign-changed' // an entry the stack did not write was removed, changed or reordered
  | 'foreign-text' // its exact source text (comments, layout) is gone
  | 'admin-lost' // the admin role does not resolve to system:masters between invocations
  | 'node-lost' // a node role does not resolve to its node mapping
  | 'declared' // after an operation, a principal of the expected version does not resolve as declared
  | 'revoked' // a revoked grant still resolves to what the stack wrote
  | 'rbac' // RBAC objects of this stack are not exactly the expected version's
  | 'namespace-deleted'
  | 'refusal-unjustified' // FailSafeError without a conflict on this stack's own entries
  | 'refusal-wrote' // a refusal that wrote something
  | 'transient-failed' // a single transient fault failed the invocation
  | 'deleted-leftover' // after the stack's delete, something it wrote still resolves / exists
  | 'taken-over' // taken-over entries/objects not as the switch says after a delete
  | 'stuck'; // the stack cannot complete an operation once the faults are gone

export interface Violation {
  readonly category: Category;
  readonly where: string;
  readonly message: string;
}

/** An aws-auth entry someone other than this stack wrote, which must stay as it is. */
export interface Protected {
  readonly section: Section;
  readonly arn: string;
  readonly value: Identity;
  /** Its exact source text in the section, when its writer wrote text (YAML by hand, eksctl, EKS). */
  text?: string;
  readonly writer: string;
  /** An `sso:` mapping (arn is then its lower-case ARN pattern). */
  readonly sso?: boolean;
}

type KeyClass = 'own' | 'adopted' | 'taken-over';

function key(section: Section, arn: string) {
  return `${section}:${arn.toLowerCase()}`;
}
function identityOf(e: Entry): Identity {
  return { username: e.username, groups: e.groups };
}
function sectionOf(e: Entry): Section {
  return e.rolearn ? 'mapRoles' : 'mapUsers';
}

export interface ClusterView {
  /** aws-auth's data, undefined when there is no ConfigMap. */
  awsAuthData(): Record<string, string> | undefined;
  get(path: string): any;
  namespaces(): string[];
}

export class Oracle {
  public readonly violations: Violation[] = [];
  public readonly protectedEntries: Protected[] = [];
  /** Every aws-auth key this stack ever declared (any era), its class, and the values it declared. */
  private readonly keys = new Map<string, { cls: KeyClass; section: Section; arn: string; values: Identity[]; wasTakenOver?: boolean }>();
  /** Every RBAC object this stack ever declared: its class and path. */
  private readonly objects = new Map<string, { cls: 'own' | 'taken-over'; path: string; claimed: boolean; orphaned?: boolean; revokedByFailed?: boolean }>();

  /**
   * Whether the handler is told the stack's status in the current operation. Without it, a
   * Delete of an RBAC chunk cannot be told from a rollback's cleanup, and objects taken over
   * from the first release are kept (their annotation gone): an orphan the oracle accepts.
   */
  public statusKnown = true;
  private readonly namespacesSeen = new Set<string>();
  /** Admin checks apply between the first successful operation and the start of the stack's delete. */
  public adminExpected = false;

  /**
   * ARNs of the stack's principals that someone else mapped as well (a hand edit): from
   * then on the authenticator may resolve them to that entry, which no handler may remove;
   * what the stack owes there is a refusal to deploy over it, judged elsewhere.
   */
  public readonly conflicted = new Set<string>();

  /**
   * Known gaps, accepted and counted (README, "The reconciler"): RBAC objects that a chunk
   * applied in a create whose answer was lost and whose own cleanup could not reach the
   * cluster (stale claims, by object: the chunks' stack ids and logical ids, and when the
   * claims were written, in the model's time; a claim of an earlier stack of the same name
   * is never released by the stack created again, README "Known gaps"), until an RBAC event
   * releases that claim (the model clears the entry then: see `World.deliver`); and objects
   * taken over from the first release that a chunk let go of while the stack's status was
   * unknown (kept, ownerless).
   */
  public readonly staleOwned = new Map<string, Map<string, number>>();
  /** Stale claims an RBAC event released (and judged from then on like any other). */
  public staleReleased = 0;
  public knownGaps = 0;
  /**
   * At the stack's delete, with its status unknown: a create of the aws-auth resource wrote and
   * could not take its writes back, and no event has shown the handler since that CloudFormation
   * never had that instance (see the model). The stack's delete is then the same event as a
   * cleanup that must keep or hand back, so entries the stack wrote may stay (a known gap).
   */
  public lostCreateExcused = false;
  /**
   * The ARNs (lower-cased) that lost create took away (they resolved before it and to
   * nothing after it). Such a taken-over entry stays removed at a stack's delete with the
   * status unknown: the event, aws-auth and record are those of the cleanup after a
   * successful replacement that revoked it, where it must stay removed (a known gap, not a
   * choice: see regressions.ts, seed 1201).
   */
  public lostCreateRevoked = new Set<string>();

  constructor(private readonly nodeGroups: NodeGroup[]) {}

  /** A version that then failed revoked these objects (they were gone at some point while the stack was at lastGood). */
  public noteGone(cluster: ClusterView) {
    for (const rec of this.objects.values()) if (rec.cls === 'taken-over' && !cluster.get(rec.path)) rec.revokedByFailed = true;
  }

  private fail(category: Category, where: string, message: string) {
    this.violations.push({ category, where, message });
  }

  public protect(p: Protected) {
    this.protectedEntries.push(p);
  }


  /**
   * After a writer that is not the product rewrote whole sections (aws-eks's kubectl apply):
   * protected entries it removed are gone for good, texts it rewrote are no longer checked.
   */
  public rebaseline(cluster: ClusterView) {
    const data = cluster.awsAuthData();
    for (let i = this.protectedEntries.length - 1; i >= 0; i--) {
      const p = this.protectedEntries[i];
      const entries = parseSection(p.section, data?.[p.section]) ?? [];
      if (!entries.some(m => m.key === p.arn.toLowerCase() && sameIdentity(m, p.value))) this.protectedEntries.splice(i, 1);
      else if (p.text !== undefined && !(data?.[p.section] ?? '').includes(p.text)) p.text = undefined;
    }
  }

  /** Records what a version declares, classifying keys the first time the stack declares them. */
  public declare(version: Version, cluster: ClusterView) {
    const state = load(cluster.awsAuthData());
    for (const e of [...version.mapRoles, ...version.mapUsers]) {
      const section = sectionOf(e);
      const k = key(section, arnOf(e));
      let rec = this.keys.get(k);
      if (!rec) {
        const adopted = this.protectedEntries.some(p => key(p.section, p.arn) === k && sameIdentity(p.value, identityOf(e)))
          && sameIdentity(resolve(state, arnOf(e)), identityOf(e));
        rec = { cls: adopted ? 'adopted' : version.era === 'reconciler' ? 'own' : 'taken-over', section, arn: arnOf(e), values: [] };
        this.keys.set(k, rec);
      }
      if (!rec.values.some(v => sameIdentity(v, identityOf(e)))) rec.values.push(identityOf(e));
    }
    for (const chunk of version.rbac) {
      for (const o of chunk.objects) {
        if (!this.objects.has(objectKey(o))) this.objects.set(objectKey(o), { cls: version.era === 'previous-release' ? 'taken-over' : 'own', path: objectPath(o), claimed: false });

      }
    }
  }

  /** After a successful operation: the objects of a reconciler-era version are the reconciler's business from now on (also the previous release's). */
  public claim(version: Version) {
    if (version.era !== 'reconciler') return;
    for (const chunk of version.rbac) for (const o of chunk.objects) this.objects.get(objectKey(o))!.claimed = true;
  }

  /** Whether this stack ever declared this value for this ARN (then the entry may be its own). */
  public stackDeclared(section: Section, arn: string, value: Identity): boolean {
    return (this.keys.get(key(section, arn))?.values ?? []).some(v => sameIdentity(v, value));
  }

  /** Checks that hold at every observation point (between any two invocations). */
  public observe(cluster: ClusterView, where: string) {
    const data = cluster.awsAuthData();
    const state = load(data);
    const now = cluster.namespaces();
    for (const ns of this.namespacesSeen) {
      if (!now.includes(ns)) this.fail('namespace-deleted', where, `namespace ${ns} was deleted`);
    }
    for (const ns of now) this.namespacesSeen.add(ns);
    this.checkProtected(data, where);
    for (const n of this.nodeGroups) {
      const got = resolve(state, NODE_ROLES[n].rolearn);
      if (!sameIdentity(got, { username: NODE_ROLES[n].username, groups: [...NODE_ROLES[n].groups] })) this.fail('node-lost', where, `${n} node role resolves to ${JSON.stringify(got)}`);
    }
    if (this.adminExpected && !this.conflicted.has(ADMIN.rolearn!.toLowerCase())) {
      const got = resolve(state, ADMIN.rolearn!);
      if (!got?.groups.includes('system:masters')) this.fail('admin-lost', where, `admin resolves to ${JSON.stringify(got)}`);
    }
  }

  private checkProtected(data: Record<string, string> | undefined, where: string) {
    for (const section of ['mapRoles', 'mapUsers'] as Section[]) {
      const mine = this.protectedEntries.filter(p => p.section === section);
      if (mine.length === 0) continue;
      const live = parseSection(section, data?.[section]);
      if (live === undefined) {
        this.fail('foreign-changed', where, `${section} no longer parses for aws-iam-authenticator`);
        continue;
      }
      // each protected entry, with its value, in their relative order (a subsequence of the live entries)
      let at = 0;
      for (const p of mine) {
        const idx = live.findIndex((m, i) => i >= at && m.sso === !!p.sso && m.key === p.arn.toLowerCase() && sameIdentity(m, p.value));
        if (idx < 0) {
          const anywhere = live.find(m => m.key === p.arn.toLowerCase() && sameIdentity(m, p.value));
          const now = live.filter(m => m.key === p.arn.toLowerCase()).map(m => ({ username: m.username, groups: m.groups }));
          this.fail('foreign-changed', where, `${p.writer}'s ${section} entry ${p.arn} ${JSON.stringify(p.value)} ${anywhere ? 'moved before an entry that preceded it' : `is gone or changed (now ${JSON.stringify(now)})`}`);
          continue;
        }
        at = idx + 1;
      }
      const text = data?.[section] ?? '';
      const texts = itemTexts(text);
      for (const p of mine) {
        if (p.text !== undefined && !text.includes(p.text) && !texts.includes(p.text)) {
          this.fail('foreign-text', where, `${p.writer}'s ${section} text ${JSON.stringify(p.text)} is no longer there verbatim`);
          p.text = undefined; // reported once
        }
      }
    }
  }

  /** After an operation that left the stack at `version` (a success, or a failure and its rollback). */
  public expectVersion(cluster: ClusterView, version: Version, where: string) {
    const state = load(cluster.awsAuthData());
    const declared = new Set<string>();
    for (const e of [...version.mapRoles, ...version.mapUsers]) {
      declared.add(key(sectionOf(e), arnOf(e)));
      if (this.conflicted.has(arnOf(e).toLowerCase())) continue;
      const got = resolve(state, arnOf(e));
      if (!sameIdentity(got, identityOf(e))) this.fail('declared', where, `${arnOf(e)} resolves to ${JSON.stringify(got)}, the version declares ${JSON.stringify(identityOf(e))}`);
    }
    for (const [k, rec] of this.keys) {
      if (declared.has(k) || rec.cls === 'adopted') continue;
      // a version revoked what was taken over: granted again later, it is the stack's own
      if (rec.cls === 'taken-over') {
        rec.cls = 'own';
        rec.wasTakenOver = true;
      }
      this.checkGone(state, rec, where, 'revoked');
    }
    const want = new Map<string, KubeObject>();
    for (const chunk of version.rbac) for (const o of chunk.objects) want.set(objectKey(o), o);
    for (const [k, rec] of this.objects) {
      const live = cluster.get(rec.path);
      const w = want.get(k);
      if (w && objectContent(live) !== objectContent(w)) this.fail('rbac', where, `${k} is ${live ? objectContent(live) : 'absent'}, the version declares ${objectContent(w)}`);
      // a version revoked what was taken over, and it went: granted again later, it is the stack's own
      if (!w && rec.cls === 'taken-over' && !live) rec.cls = 'own';
      if (!w && rec.claimed && live && live.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'cdk-eks-access') {
        if ((rec.cls === 'taken-over' && (rec.orphaned || !this.statusKnown)) || this.staleOwned.has(k)) {
          rec.orphaned = true;
          this.knownGaps++;
          continue;
        }
        this.fail('rbac', where, `${k} is still there; the version does not declare it`);
      }
    }
    for (const ns of version.namespaces) if (!cluster.namespaces().includes(ns)) this.fail('rbac', where, `namespace ${ns} of the version is absent`);
  }

  private checkGone(state: AuthState, rec: { arn: string; values: Identity[] }, where: string, category: Category, excused = false) {
    const got = resolve(state, rec.arn);
    if (!got) return;
    if (this.protectedEntries.some(p => p.arn.toLowerCase() === rec.arn.toLowerCase() && sameIdentity(p.value, got))) return; // someone else's
    if (!rec.values.some(v => sameIdentity(v, got))) return;
    if (excused) this.knownGaps++;
    else this.fail(category, where, `${rec.arn} still resolves to ${JSON.stringify(got)}, which this stack wrote`);
  }

  /** After the stack's delete completed. */
  public expectDeleted(cluster: ClusterView, lastVersion: Version, statusKnown: boolean, where: string) {
    const state = load(cluster.awsAuthData());
    const removeTakenOver = statusKnown && TAKEN_OVER_REMOVED_ON_REAL_DELETE;
    const lastDeclared = new Map([...lastVersion.mapRoles, ...lastVersion.mapUsers].map(e => [key(sectionOf(e), arnOf(e)), e]));
    for (const [k, rec] of this.keys) {
      if (rec.cls === 'adopted') continue;
      // taken over, revoked, granted again: without the status the handler cannot tell
      // whether that grant was a rollback's (still taken over) or a new one; either is right
      if (rec.wasTakenOver && !statusKnown) continue;
      if (rec.cls === 'own' || removeTakenOver) {
        this.checkGone(state, rec, where, rec.cls === 'own' ? 'deleted-leftover' : 'taken-over', this.lostCreateExcused);
      } else {
        // kept: as the stack last declared it, or put back as it was when taken over (its first value)
        if (this.conflicted.has(rec.arn.toLowerCase())) continue;
        const e = lastDeclared.get(k);
        const got = resolve(state, rec.arn);
        if (e && !sameIdentity(got, identityOf(e)) && !sameIdentity(got, rec.values[0])) {
          if (this.lostCreateExcused && got === undefined && this.lostCreateRevoked.has(rec.arn.toLowerCase())) {
            this.knownGaps++;
            continue;
          }
          this.fail('taken-over', where, `taken-over ${rec.arn} should stay (stack status unknown) but resolves to ${JSON.stringify(got)}`);
        }
      }
    }
    const lastObjects = new Set(lastVersion.rbac.flatMap(c => c.objects.map(objectKey)));
    for (const [k, rec] of this.objects) {
      const live = cluster.get(rec.path);
      const mine = live?.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'cdk-eks-access';
      if (!rec.claimed) continue;
      if (live && mine && (rec.orphaned || this.staleOwned.has(k))) {
        this.knownGaps++;
        continue;
      }
      if (rec.cls === 'own' || removeTakenOver) {
        if (live && mine) this.fail(rec.cls === 'own' ? 'deleted-leftover' : 'taken-over', where, `${k} is still there after the stack's delete`);
      } else if (lastObjects.has(k) && !live) {
        // known gap: a rollback that re-creates a taken-over object it had revoked creates it as the stack's own
        if (rec.revokedByFailed) {
          this.knownGaps++;
          continue;
        }
        this.fail('taken-over', where, `taken-over ${k} should stay (stack status unknown) but is gone`);
      }
    }
  }

  /**
   * Whether a refusal of this aws-auth event is one the handler may make: aws-auth holds
   * another entry for one of its ARNs (either section; not one this stack wrote, or two of
   * them), a section it needs does not parse, or an `sso:` mapping covers one of its roles.
   */
  public refusalJustified(
    resourceType: string, requestType: string, props: Record<string, any>, data: Record<string, string> | undefined,
    otherStacksClaims: ReadonlySet<string> = new Set(),
  ): boolean {
    if (resourceType !== 'Custom::CdkEksAccessAwsAuth' || requestType === 'Delete') return false;
    const roles = parseSection('mapRoles', data?.mapRoles);
    const users = parseSection('mapUsers', data?.mapUsers);
    const declared: Entry[] = [...(props.MapRoles ?? []), ...(props.MapUsers ?? [])];
    for (const e of declared) {
      const section = sectionOf(e);
      if ((section === 'mapRoles' ? roles : users) === undefined) return true;
      const lower = arnOf(e).toLowerCase();
      // another stack id's record holds it (an earlier stack of the same name that left it behind)
      if (otherStacksClaims.has(lower)) return true;
      const matching = [...(roles ?? []), ...(users ?? [])].filter(m => !m.sso && m.key === lower);
      if (matching.length >= 2) return true;
      if (matching.some(m => m.section !== section)) return true;
      if (matching.length === 1 && !sameIdentity(matching[0], identityOf(e)) && !this.stackDeclared(section, arnOf(e), matching[0])) return true;
      if (section === 'mapRoles' && (roles ?? []).some(m => m.sso && lower.startsWith(m.key.slice(0, -1)))) return true;
    }
    return false;
  }
}
