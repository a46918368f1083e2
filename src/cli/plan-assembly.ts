import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from './command';
import { AwsAuthDesired } from '../handlers/access-reconciler/aws-auth';
import { AWS_AUTH_RESOURCE_TYPE } from '../handlers/access-reconciler/protocol';
import { readableNames, render } from '../report/parse';

/** One `Custom::CdkEksAccessAwsAuth` resource of a synthesized app: what its next deploy asks the reconciler for. */
export interface AwsAuthResource {
  readonly stackName: string;
  readonly logicalId: string;
  /** Its construct path (`aws:cdk:path`), or the logical id. */
  readonly path: string;
  /** The stack's account and region when the app pins them. */
  readonly account?: string;
  readonly region?: string;
  /** The entries, with every value the template can resolve offline resolved. */
  readonly desired: AwsAuthDesired;
  /** Lower-cased ARNs that are only known at deploy time (they hold `<…>` or `${…}`). */
  readonly deployTimeArns: Set<string>;
  readonly legacyPruneLabel?: string;
}

/** Values the template's pseudo parameters take offline. */
export interface PseudoValues {
  readonly partition: string;
  readonly account?: string;
  readonly region?: string;
}

const UNKNOWN = (s: string) => /<[^>]*>|\$\{[^}]*\}/.test(s);

function stacksOf(directory: string): Array<{ name: string; template: any; environment?: string }> {
  const manifestFile = path.join(directory, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new UsageError(`${directory}: no manifest.json there; run cdk synth first or name the cdk.out directory`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const out: Array<{ name: string; template: any; environment?: string }> = [];
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (artifact.type === 'aws:cloudformation:stack') {
      const template = JSON.parse(fs.readFileSync(path.join(directory, artifact.properties.templateFile), 'utf8'));
      out.push({ name: artifact.properties?.stackName ?? id, template, environment: artifact.environment });
    } else if (artifact.type === 'cdk:cloud-assembly') {
      out.push(...stacksOf(path.join(directory, artifact.properties.directoryName)));
    }
  }
  return out;
}

/**
 * The aws-auth resources of a cloud assembly, their entries resolved as far as they can be
 * offline: `AWS::Partition`, `AWS::AccountId` and `AWS::Region` from the stack's
 * environment (or the values given); a role or user created in the app by its literal name,
 * or, when CloudFormation names it at deploy time, by its construct path in angle brackets.
 */
export function awsAuthResources(directory: string, pseudo: PseudoValues): AwsAuthResource[] {
  const out: AwsAuthResource[] = [];
  for (const stack of stacksOf(directory)) {
    const resources: Record<string, any> = stack.template?.Resources ?? {};
    const env = /^aws:\/\/([^/]+)\/(.+)$/.exec(stack.environment ?? '');
    const account = env && !env[1].startsWith('unknown') ? env[1] : pseudo.account;
    const region = env && !env[2].startsWith('unknown') ? env[2] : pseudo.region;
    const names = readableNames(resources);
    names.set('AWS::Partition', pseudo.partition);
    names.set('AWS::AccountId', account ?? '<account>');
    names.set('AWS::Region', region ?? '<region>');
    names.set('AWS::URLSuffix', 'amazonaws.com');
    for (const [id, res] of Object.entries(resources)) {
      if (res.Type === 'Custom::CdkEksAccessSsoRole') {
        const set = String(res.Properties?.PermissionSetName);
        names.set(`${id}.PathlessArn`, `<role of permission set ${set}>`);
        names.set(`${id}.Arn`, `<role of permission set ${set}>`);
      }
    }
    for (const [logicalId, res] of Object.entries(resources)) {
      if (res.Type !== AWS_AUTH_RESOURCE_TYPE) continue;
      const deployTimeArns = new Set<string>();
      const entries = (list: any[] | undefined, key: 'rolearn' | 'userarn') => (list ?? []).map(e => {
        const arn = render(e[key], names);
        if (UNKNOWN(arn)) deployTimeArns.add(arn.toLowerCase());
        return {
          [key]: arn,
          ...(e.username !== undefined ? { username: render(e.username, names) } : {}),
          groups: (e.groups ?? []).map((g: unknown) => render(g, names)),
        };
      });
      const cdkPath = res.Metadata?.['aws:cdk:path'];
      out.push({
        stackName: stack.name,
        logicalId,
        path: typeof cdkPath === 'string' ? cdkPath.replace(/\/Resource\/Default$|\/Default$/, '') : `${stack.name}/${logicalId}`,
        ...(account ? { account } : {}),
        ...(region ? { region } : {}),
        desired: { mapRoles: entries(res.Properties?.MapRoles, 'rolearn'), mapUsers: entries(res.Properties?.MapUsers, 'userarn') },
        deployTimeArns,
        ...(typeof res.Properties?.LegacyPruneLabel === 'string' ? { legacyPruneLabel: res.Properties.LegacyPruneLabel } : {}),
      });
    }
  }
  return out;
}
