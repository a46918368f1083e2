import type { IConstruct } from 'constructs';
import type { AccessPrincipalType } from '../principal';

/**
 * What a principal becomes once it is bound to a cluster's stack. Internal: it is not
 * exported from the package (src/index.ts exports nothing under src/private).
 */
export interface BoundPrincipal {
  /** Which aws-auth list the principal goes into. */
  readonly type: AccessPrincipalType;
  /** The ARN that goes into aws-auth (path-less for roles, with path for users). May contain tokens. */
  readonly mappedArn: string;
  /** Identity for merging: lower-cased literal ARN, or the token string. */
  readonly key: string;
  /**
   * A key that does not depend on token numbering (the resolved ARN for tokens), for
   * sorting and for logical ids.
   */
  readonly stableKey: string;
  /**
   * The full ARN (roles with their IAM path), as access entries need it; undefined when
   * it cannot be known (a role by name, a path-less SSO role ARN).
   */
  readonly fullArn?: string;
  /** The partition when known at synth time. */
  readonly partition?: string;
  /** The username when no grant sets one (e.g. `role:<RoleName>:{{SessionName}}`). */
  readonly defaultUsername: string;
  /** The role or user construct the principal was made from, if any. */
  readonly source?: IConstruct;
  /** The permission-set name of an SSO role (by ARN or by name). */
  readonly permissionSetName?: string;
  /** Whether the role is looked up by permission-set name at deploy time. */
  readonly byName?: boolean;
  /**
   * Who the principal is, for the logical id of its access entry: a name that does not
   * depend on the stack's env (the role's construct, its name, the user's name) and its
   * account (`@stack` for the stack's own, by reference or by the pinned env's value),
   * which the id includes only when two principals of one cluster share a name.
   */
  readonly entryIdentity: EntryIdentity;
}

/** See `BoundPrincipal.entryIdentity`. */
export interface EntryIdentity {
  readonly name: string;
  readonly account: string;
}
