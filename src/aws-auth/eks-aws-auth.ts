import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { AccessPrincipalType } from '../principal';
import { AwsAuthModel } from './model';

/** Marks the mapping slots this library registers with aws-eks's AwsAuth. */
const SLOT = Symbol.for('cdk-eks-access.awsAuthSlot');

/**
 * Writes the model's entries through the `AwsAuth` of an aws-eks `Cluster`, so the
 * cluster keeps exactly one aws-auth writer and the node, Fargate and masters entries
 * that aws-eks registers stay in the same ConfigMap.
 *
 * aws-eks renders its mappings lazily, in the order they were added. We add one slot per
 * principal; at synth, slot i renders the i-th entry of the model in sorted order, so
 * the ConfigMap does not depend on the order of grants.
 */
export class EksAwsAuthWriter {
  private readonly slots = { [AccessPrincipalType.ROLE]: 0, [AccessPrincipalType.USER]: 0 };

  constructor(private readonly owner: IConstruct, private readonly cluster: eks.Cluster, private readonly model: AwsAuthModel) {}

  /** Adds one slot of the given type (call once per new principal). */
  public addSlot(type: AccessPrincipalType): void {
    const index = this.slots[type]++;
    const model = this.model;
    const owner = this.owner;
    const entry = () => model.list(type)[index];
    // Only what AwsAuth reads is implemented: `node` (to check the stack) and the ARN.
    const slot = {
      [SLOT]: true,
      get node() { return owner.node; },
      get roleArn() { return entry().arn; },
      get userArn() { return entry().arn; },
    };
    const mapping: eks.AwsAuthMapping = {
      get username() { return entry().username; },
      get groups() { return entry().groups; },
    };
    if (type === AccessPrincipalType.ROLE) {
      this.cluster.awsAuth.addRoleMapping(slot as unknown as iam.IRole, mapping);
    } else {
      this.cluster.awsAuth.addUserMapping(slot as unknown as iam.IUser, mapping);
    }
  }

  /**
   * The mappings that others (aws-eks node groups, Fargate profiles, `mastersRole`, a
   * user's own `awsAuth.addRoleMapping`) added to the same AwsAuth.
   */
  public foreignMappings(): Array<{ type: AccessPrincipalType; identity: IConstruct; arn: string }> {
    const awsAuth = this.cluster.awsAuth as unknown as {
      roleMappings?: Array<{ role: iam.IRole }>;
      userMappings?: Array<{ user: iam.IUser }>;
    };
    const out: Array<{ type: AccessPrincipalType; identity: IConstruct; arn: string }> = [];
    for (const m of awsAuth.roleMappings ?? []) {
      if (!(m.role as any)[SLOT]) out.push({ type: AccessPrincipalType.ROLE, identity: m.role, arn: m.role.roleArn });
    }
    for (const m of awsAuth.userMappings ?? []) {
      if (!(m.user as any)[SLOT]) out.push({ type: AccessPrincipalType.USER, identity: m.user, arn: m.user.userArn });
    }
    return out;
  }
}
