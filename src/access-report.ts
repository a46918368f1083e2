import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { refuseRenamedNamespace } from './private/validate';
import { canI as evaluate, effectiveGroups, expandUsername, findPrincipal } from './report/evaluate';
import { findings as check } from './report/findings';
import { ParsedCluster, parseTemplate } from './report/parse';
import { toData, toMarkdown, toText } from './report/render';

/** A question for `AccessReport.canI()`. */
export interface CanIRequest {
  /**
   * The IAM principal: a role ARN (with or without path), a user ARN, an STS
   * assumed-role session ARN as `aws sts get-caller-identity` prints it, or a role or
   * user the app creates as the report renders its ARN (`${LogicalId.Arn}`, or
   * `arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${LogicalId}`). Anything else throws.
   */
  readonly principalArn: string;
  /** The Kubernetes verb, lowercase, e.g. `get`, `list`, `create`, `delete`. */
  readonly verb: string;
  /**
   * The resource (plural, e.g. `pods`, `pods/log`, `deployments`), or a non-resource URL
   * starting with `/`.
   *
   * A built-in resource may also be named by its singular name (`deployment`): it is
   * resolved from the discovery of kube-apiserver v1.35 (the table in the package). A
   * name a built-in group does not have, or a kind (`Pod`), throws naming the right form.
   * Resources of other groups (custom resources) are taken as asked.
   */
  readonly resource: string;
  /**
   * The API group (`apps`, `batch`, ...).
   *
   * @default - the core group when it has the resource, else the one built-in group that
   * has it (`deployments`: `apps`); a name several built-in groups have throws
   */
  readonly apiGroup?: string;
  /**
   * The namespace of the request: a namespace name (a DNS-1123 label), or this throws.
   *
   * @default - a cluster-wide request (only cluster-wide bindings count)
   */
  readonly namespaceName?: string;
  /**
   * The object name.
   *
   * @default - any object
   */
  readonly name?: string;
  /**
   * The cluster (`<stack>/<logical id>`), when the report has several.
   *
   * @default - the only cluster of the report
   */
  readonly cluster?: string;
}

/** The answer of `AccessReport.canI()`. */
export interface CanIResult {
  /** Whether the request is allowed. */
  readonly allowed: boolean;
  /** Why: which entry, group, binding and rule (or why not). */
  readonly reason: string;
  /**
   * The principal's Kubernetes username, with the templates filled in.
   *
   * The request's ARN fills in `{{AccountID}}`, and for a session ARN also
   * `{{SessionName}}` and `{{SessionNameRaw}}`.
   *
   * @default - the principal has no entry
   */
  readonly username?: string;
  /**
   * The principal's Kubernetes groups.
   *
   * @default - the principal has no entry
   */
  readonly groups?: string[];
}

/** Options for `AccessReport.findings()`. */
export interface AccessCheckOptions {
  /**
   * More cluster admins than this is a finding.
   *
   * @default 3
   */
  readonly maxClusterAdmins?: number;
}

/** A problem found in a synthesized app's cluster access. */
export interface AccessFinding {
  /** The cluster (`<stack>/<logical id>`). */
  readonly cluster: string;
  /** `pathed-role-arn`, `duplicate-arn`, `unbound-group`, `unmapped-binding`, `too-many-admins` or `reserved-prefix`. */
  readonly kind: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/**
 * Who can do what in each EKS cluster of a synthesized app, read from the templates alone
 * (no cluster or AWS account needed): every IAM principal in aws-auth and access entries,
 * its Kubernetes username and groups, and the RBAC rules its groups are bound to
 * (generated roles, Kubernetes' built-in `view`/`edit`/`admin`/`cluster-admin`,
 * `system:masters` and `AmazonEKSClusterAdminPolicy`).
 *
 * It reads any aws-eks cluster's template, not only clusters built with this library.
 * Built-in ClusterRoles are known from Kubernetes' bootstrap policy without their
 * aggregated additions (CRDs); objects created outside the app are not seen.
 */
export class AccessReport {
  /**
   * The report of one stack (synthesizes its app).
   *
   * @param stack a stack of an app that has not been synthesized yet, or has been synthesized with it
   */
  public static fromStack(stack: Stack): AccessReport {
    // in-process templates carry no aws:cdk:path metadata: the constructs give the paths
    const paths = new Map<string, string>();
    for (const c of stack.node.findAll()) {
      if (CfnResource.isCfnResource(c) && Stack.of(c) === stack && (c.cfnResourceType === 'AWS::IAM::Role' || c.cfnResourceType === 'AWS::IAM::User')) {
        paths.set(stack.resolve(c.logicalId), c.node.path.replace(/\/Resource$/, ''));
      }
    }
    return new AccessReport(parseTemplate(stack.stackName, Template.fromStack(stack).toJSON(), paths));
  }

  /**
   * The report of a cloud assembly directory (e.g. `cdk.out`): every stack in it.
   *
   * Throws if the directory has no `manifest.json` (not synthesized).
   *
   * @param directory the output directory of `cdk synth`
   */
  public static fromAssemblyDirectory(directory: string): AccessReport {
    const manifestFile = path.join(directory, 'manifest.json');
    if (!fs.existsSync(manifestFile)) {
      throw new Error(`AccessReport.fromAssemblyDirectory(${JSON.stringify(directory)}): no manifest.json there; run \`cdk synth\` first or pass the cdk.out directory.`);
    }
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    const clusters: ParsedCluster[] = [];
    for (const [name, artifact] of Object.entries<any>(manifest.artifacts ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (artifact.type === 'aws:cloudformation:stack') {
        const template = JSON.parse(fs.readFileSync(path.join(directory, artifact.properties.templateFile), 'utf8'));
        clusters.push(...parseTemplate(artifact.displayName ?? name, template));
      } else if (artifact.type === 'cdk:cloud-assembly') {
        clusters.push(...AccessReport.fromAssemblyDirectory(path.join(directory, artifact.properties.directoryName)).parsed);
      }
    }
    return new AccessReport(clusters);
  }

  /**
   * The report of one CloudFormation template (as parsed JSON).
   *
   * @param stackName the stack name to show in the report
   * @param template the template, parsed from JSON
   */
  public static fromTemplate(stackName: string, template: any): AccessReport {
    return new AccessReport(parseTemplate(stackName, template));
  }

  private constructor(private readonly parsed: ParsedCluster[]) {}

  /** The clusters found (`<stack>/<logical id>`). */
  public get clusters(): string[] {
    return this.parsed.map(c => c.id);
  }

  /**
   * Whether `request.principalArn` may do the request, and why.
   *
   * Throws on a malformed question (see `CanIRequest`), naming the bad value, instead of
   * answering `allowed: false`. Where the cluster reads access entries and the principal has
   * one, that entry alone decides (EKS uses it instead of the principal's aws-auth entry).
   *
   * @param request who asks to do what, where
   */
  public canI(request: CanIRequest): CanIResult {
    refuseRenamedNamespace(request, `canI(${JSON.stringify(request.principalArn)}, ${JSON.stringify(request.verb)}, ${JSON.stringify(request.resource)})`,
      'the request has', 'the question would be a cluster-wide one');
    const cluster = this.cluster(request.cluster);
    // the reader's own field is `namespace` (a word reserved in C#, so the public field is not)
    const answer = evaluate(cluster, {
      principalArn: request.principalArn,
      verb: request.verb,
      resource: request.resource,
      apiGroup: request.apiGroup,
      namespace: request.namespaceName,
      name: request.name,
    });
    const p = answer.principal ?? findPrincipal(cluster, request.principalArn);
    const username = p ? expandUsername(p.username, request.principalArn) : undefined;
    return { allowed: answer.allowed, reason: answer.reason, username, groups: p ? effectiveGroups(cluster, p) : undefined };
  }

  /**
   * The problems the report finds.
   *
   * Pathed role ARNs, duplicates, unbound groups, bindings to unmapped groups, too many
   * admins, reserved prefixes.
   *
   * @param options which problems to look for (e.g. the most cluster admins allowed)
   */
  public findings(options: AccessCheckOptions = {}): AccessFinding[] {
    return check(this.parsed, options.maxClusterAdmins ?? 3);
  }

  /** A table per cluster for a terminal. */
  public toText(): string {
    return toText(this.parsed);
  }

  /** Markdown: a table and a Mermaid diagram (principal, group, role, namespace) per cluster. */
  public toMarkdown(): string {
    return toMarkdown(this.parsed);
  }

  /** The model as JSON. */
  public toJson(): string {
    return JSON.stringify(toData(this.parsed), null, 2);
  }

  private cluster(id: string | undefined) {
    if (id !== undefined) {
      const found = this.parsed.find(c => c.id === id);
      if (!found) throw new Error(`AccessReport: no cluster ${JSON.stringify(id)}; the report has ${this.clusters.join(', ') || 'none'}`);
      return found;
    }
    if (this.parsed.length !== 1) {
      throw new Error(`AccessReport: the report has ${this.parsed.length} clusters (${this.clusters.join(', ')}); say which in CanIRequest.cluster`);
    }
    return this.parsed[0];
  }
}
