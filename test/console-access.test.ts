import { Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal, AccessReport, ClusterAccess } from '../src';
import { awsAuth, rbacObjects, testCluster, testStack } from './util';

const ADMIN = AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/admin');

describe('console access', () => {
  test('a namespaced level: its groups, cluster-wide read of nodes and namespaces, the console\'s reads in the namespace (no Secrets), and the IAM actions', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = cluster.grantRole(dev, AccessLevel.namespaceView('team-a'), { consoleAccess: true });
    expect(grant.groups).toEqual(['cdk-eks-access:team-a:view', 'cdk-eks-access:console', 'cdk-eks-access:team-a:console']);
    const template = Template.fromStack(stack);
    const entry = awsAuth(template).mapRoles.find(e => JSON.stringify(e.rolearn).includes(stack.getLogicalId(dev.node.defaultChild as iam.CfnRole)))!;
    expect(entry.groups).toEqual([...grant.groups].sort()); // aws-auth lists groups sorted
    const objects = rbacObjects(template);
    const byName = (kind: string, name: string, ns?: string) =>
      objects.find(o => o.kind === kind && o.metadata.name === name && o.metadata.namespace === ns);
    expect(byName('ClusterRole', 'cdk-eks-access:console-cluster-read')!.rules).toEqual([{ apiGroups: [''], resources: ['namespaces', 'nodes'], verbs: ['get', 'list'] }]);
    expect(byName('ClusterRoleBinding', 'cdk-eks-access:console-cluster-read')!.subjects[0].name).toBe('cdk-eks-access:console');
    expect(byName('RoleBinding', 'cdk-eks-access:console-read', 'team-a')!.subjects[0].name).toBe('cdk-eks-access:team-a:console');
    expect(JSON.stringify(byName('ClusterRole', 'cdk-eks-access:console-read')!.rules)).not.toContain('secrets');
    // IAM: this cluster where an action names a cluster, '*' only where it cannot
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(p => p.Properties.PolicyDocument.Statement as any[]);
    const star = statements.find(s => [s.Action].flat().includes('eks:ListClusters'))!;
    expect(star).toEqual(expect.objectContaining({ Action: ['eks:DescribeAddonVersions', 'eks:ListClusters', 'iam:ListRoles'], Resource: '*' }));
    const scoped = statements.find(s => [s.Action].flat().includes('eks:AccessKubernetesApi'))!;
    expect(JSON.stringify(scoped.Resource)).toMatch(/Fn::GetAtt.*Arn/);
  });

  test('what the report answers: nodes listed, Secrets still not read, nothing outside the namespace', () => {
    const stack = testStack();
    const cluster = new eksv2.Cluster(stack, 'V2', { version: eksv2.KubernetesVersion.V1_35, bootstrapClusterCreatorAdminPermissions: false });
    const access = ClusterAccess.ofV2(cluster);
    access.grant(ADMIN, AccessLevel.clusterAdmin(), { consoleAccess: true });
    access.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/dev'), AccessLevel.namespaceView('team-a'), { consoleAccess: true });
    const template = Template.fromStack(stack);
    // an access-policy cluster now has the reconciler, for the console's RBAC
    expect(Object.keys(template.findResources('Custom::CdkEksAccessRbac'))).toHaveLength(1);
    const r = AccessReport.fromStack(stack);
    const can = (verb: string, resource: string, namespace?: string) => r.canI({ principalArn: 'arn:aws:iam::111122223333:role/dev', verb, resource, namespaceName: namespace }).allowed;
    expect([can('list', 'nodes'), can('list', 'namespaces'), can('list', 'pods', 'team-a'), can('get', 'secrets', 'team-a'), can('list', 'pods', 'team-b'), can('delete', 'nodes')])
      .toEqual([true, true, true, false, false, false]);
    // the cluster admin needs no console RBAC
    expect(rbacObjects(template).some(o => o.subjects?.some((s: any) => s.name.includes('cluster-console')))).toBe(false);
  });

  test('a cluster-wide level reads the console\'s types in every namespace; a namespace pattern is refused', () => {
    const stack = testStack();
    const cluster = testCluster(stack);
    cluster.grant(AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/auditor'), AccessLevel.clusterView(), { consoleAccess: true });
    const objects = rbacObjects(Template.fromStack(stack));
    expect(objects.find(o => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'cdk-eks-access:cluster-console')!.roleRef.name).toBe('cdk-eks-access:console-read');
    const v2stack = testStack();
    const access = ClusterAccess.ofV2(new eksv2.Cluster(v2stack, 'V2', { version: eksv2.KubernetesVersion.V1_35 }));
    expect(() => access.grant(ADMIN, AccessLevel.namespaceView('dev-*'), { consoleAccess: true })).toThrow(/consoleAccess is written as RBAC.*cannot have/);
  });
});
