/**
 * npm run bench: synthesizes N grants with cdk-eks-access and the same work with plain
 * aws-cdk-lib (awsAuth.addRoleMapping/addUserMapping + one addManifest per grant), each
 * case in its own process, and prints wall time, peak RSS, resources, RBAC custom
 * resources, template bytes and the ratios library / baseline measured in the same run.
 *
 * Both sides use the same eks.Cluster, the same kubectl layer and the same app settings
 * (built-in CloudFormation validation off), so the ratio isolates the grant work.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, AccessPrincipal, AccessPrincipalType, ClusterAccess, EksCluster, SnapshotTemplate } from '../src';
import { Event, dispatch } from '../src/handlers/access-reconciler/index';
import { mixedGrants } from '../test/fixtures';
import { api as fakeApi } from '../test/handlers/events';
import { startFakeKube } from '../test/handlers/fake-kube';

// CloudFormation validation off on both sides (runSnapshot measures it on and off): the
// switch every aws-cdk-lib release with the validation plugin reads.
process.env.CDK_VALIDATION = 'false';

interface Result { ms: number; maxRssMb: number; resources: number; rbacCustomResources: number; templateBytes: number }

function runCase(kind: 'library' | 'baseline', n: number): Result {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const start = process.hrtime.bigint();
  const app = new App({ outdir, treeMetadata: false });
  const stack = new Stack(app, 'Bench');
  const cluster = new eks.Cluster(stack, 'Cluster', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV36Layer(stack, 'Kubectl'), defaultCapacity: 0 });
  const specs = mixedGrants(n);
  if (kind === 'library') {
    const access = ClusterAccess.of(cluster);
    for (const g of specs) access.grant(g.principal, g.level, g.options);
  } else {
    specs.forEach((g, i) => {
      const bound = g.principal._bind(stack);
      if (bound.type === AccessPrincipalType.ROLE) {
        cluster.awsAuth.addRoleMapping(iam.Role.fromRoleArn(stack, `R${i}`, bound.mappedArn), { groups: [g.level.group] });
      } else {
        cluster.awsAuth.addUserMapping(iam.User.fromUserArn(stack, `U${i}`, bound.mappedArn), { groups: [g.level.group] });
      }
      const objects = g.level._objects();
      if (objects.length > 0) cluster.addManifest(`Grant${i}`, ...objects);
    });
  }
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const file = path.join(assembly.directory, assembly.getStackByName('Bench').templateFile);
  const text = fs.readFileSync(file, 'utf8');
  const template = JSON.parse(text);
  const resources = Object.values<any>(template.Resources);
  // plain aws-cdk-lib: kubectl manifests with bindings; the library: its reconciler's RBAC resources
  const rbacCustomResources = resources.filter(r => r.Type === 'Custom::CdkEksAccessRbac'
    || (r.Type === 'Custom::AWSCDK-EKS-KubernetesResource' && /Binding/.test(JSON.stringify(r.Properties.Manifest)))).length;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, resources: resources.length, rbacCustomResources, templateBytes: Buffer.byteLength(text) };
}

/** N grants of built-in levels only (the kind aws-eks-v2's own grantAccess can express): roles, users and SSO roles. */
function builtInGrants(n: number): Array<{ principal: AccessPrincipal; level: AccessLevel }> {
  return mixedGrants(n).map((g, i) => {
    const ns = `team-${String(i % 40).padStart(2, '0')}`;
    const l = i % 5;
    const level = l === 0 ? AccessLevel.namespaceView(ns) : l === 1 ? AccessLevel.namespaceEdit(ns) : l === 2 ? AccessLevel.namespaceAdmin(ns)
      : l === 3 ? AccessLevel.clusterView() : AccessLevel.namespaceView(`dev-${ns}-*`);
    return { principal: g.principal, level };
  });
}

/**
 * An aws-eks-v2 cluster (the same in both cases) and N grants of built-in levels: through
 * this library (access entries with access policies), or through aws-eks-v2's own
 * `cluster.grantAccess` with the same principals, policies and scopes.
 */
function runV2Case(kind: 'library' | 'baseline', n: number): Result {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const start = process.hrtime.bigint();
  const app = new App({ outdir, treeMetadata: false });
  const stack = new Stack(app, 'Bench');
  // the same explicit admin on both sides (aws-eks-v2's mastersRole)
  const mastersRole = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
  const cluster = new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_35, bootstrapClusterCreatorAdminPermissions: false, mastersRole });
  const specs = builtInGrants(n);
  if (kind === 'library') {
    const access = ClusterAccess.ofV2(cluster);
    for (const g of specs) access.grant(g.principal, g.level);
  } else {
    specs.forEach((g, i) => {
      const bound = g.principal._bind(stack);
      const ns = g.level.namespaceName;
      const name = { 'cluster-view': 'AmazonEKSViewPolicy', 'namespace-view': 'AmazonEKSViewPolicy', 'namespace-edit': 'AmazonEKSEditPolicy', 'namespace-admin': 'AmazonEKSAdminPolicy' }[g.level.name]!;
      cluster.grantAccess(`Grant${i}`, bound.fullArn ?? bound.mappedArn, [eksv2.AccessPolicy.fromAccessPolicyName(name, ns !== undefined
        ? { accessScopeType: eksv2.AccessScopeType.NAMESPACE, namespaces: [ns] }
        : { accessScopeType: eksv2.AccessScopeType.CLUSTER })]);
    });
  }
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const text = fs.readFileSync(path.join(assembly.directory, assembly.getStackByName('Bench').templateFile), 'utf8');
  const resources = Object.values<any>(JSON.parse(text).Resources);
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, resources: resources.length, rbacCustomResources: resources.filter(r => /^Custom::/.test(r.Type)).length, templateBytes: Buffer.byteLength(text) };
}

/**
 * What a user's snapshot test does: build a stack with an EksCluster and 25 grants, take
 * SnapshotTemplate.fromStack() and serialize it. `validation` is the app's built-in
 * CloudFormation validation plugin (on by default in aws-cdk-lib).
 */
function runSnapshot(validation: boolean): { ms: number } {
  const start = process.hrtime.bigint();
  process.env.CDK_VALIDATION = validation ? 'true' : 'false';
  const app = validation ? new App() : new App({ context: { 'aws:cdk:disable-asset-staging': true } });
  const stack = new Stack(app, 'Snap');
  const cluster = new EksCluster(stack, 'Cluster', { version: eks.KubernetesVersion.V1_35, adminPrincipal: new iam.AccountPrincipal('111122223333'), defaultCapacity: 0 });
  for (const g of mixedGrants(25)) cluster.grant(g.principal, g.level, g.options);
  JSON.stringify(SnapshotTemplate.fromStack(stack));
  return { ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/** The reconciler resources' properties for N mixed grants, as the library synthesizes them (tokens replaced by constants). */
function reconcilerResources(n: number, drop = 0): Array<{ logicalId: string; type: string; props: Record<string, any> }> {
  const app = new App({ treeMetadata: false, context: { 'aws:cdk:disable-asset-staging': true } });
  const stack = new Stack(app, 'Bench');
  const cluster = new eks.Cluster(stack, 'Cluster', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV36Layer(stack, 'Kubectl'), defaultCapacity: 0 });
  const access = ClusterAccess.of(cluster);
  mixedGrants(n).slice(drop).forEach(g => access.grant(g.principal, g.level, g.options));
  const template = app.synth().getStackByName('Bench').template;
  const constant = (v: any): any => (Array.isArray(v) ? v.map(constant)
    : v && typeof v === 'object' ? (Object.keys(v).some(k => k === 'Ref' || k.startsWith('Fn::')) ? 'token' : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, constant(x)])))
      : v);
  return Object.entries<any>(template.Resources)
    .filter(([, r]) => typeof r.Type === 'string' && r.Type.startsWith('Custom::CdkEksAccess'))
    .map(([logicalId, r]) => ({ logicalId, type: r.Type, props: { ...constant(r.Properties), ClusterName: 'c', RoleArn: 'arn:aws:iam::111122223333:role/Creation' } }));
}

/**
 * Kubernetes API requests and wall time of the reconciler per deploy, driven through its
 * handler against the loopback fake API as CloudFormation would: the first deploy of 400
 * grants, one grant added, one revoked, the stack delete.
 */
async function runReconciler(): Promise<Array<{ step: string; invocations: number; requests: number; writes: number; ms: number }>> {
  const kube = await startFakeKube();
  const stackId = 'arn:aws:cloudformation:us-east-1:111122223333:stack/Bench/1';
  const live = new Map<string, { type: string; props: Record<string, any>; physicalId: string }>();
  let request = 0;
  const out: Array<{ step: string; invocations: number; requests: number; writes: number; ms: number }> = [];
  const deploy = async (step: string, resources: Array<{ logicalId: string; type: string; props: Record<string, any> }> | undefined) => {
    const before = kube.log.length;
    const writesBefore = kube.writes().length;
    let invocations = 0;
    const start = process.hrtime.bigint();
    const call = async (e: Omit<Event, 'StackId' | 'RequestId'>) => {
      invocations++;
      return dispatch({ ...e, StackId: stackId, RequestId: `r${++request}` }, fakeApi(kube), {}, { stackStatus: async () => (resources ? 'UPDATE_IN_PROGRESS' : 'DELETE_IN_PROGRESS') });
    };
    const wanted = new Map((resources ?? []).map(r => [r.logicalId, r]));
    const order = (t: string) => ['Custom::CdkEksAccessNamespaces', 'Custom::CdkEksAccessAwsAuth', 'Custom::CdkEksAccessRbac'].indexOf(t);
    for (const r of [...wanted.values()].sort((a, b) => order(a.type) - order(b.type))) {
      const old = live.get(r.logicalId);
      if (!old) {
        const res = await call({ RequestType: 'Create', ResourceType: r.type, LogicalResourceId: r.logicalId, ResourceProperties: r.props });
        live.set(r.logicalId, { ...r, physicalId: res.PhysicalResourceId });
      } else if (JSON.stringify(old.props) !== JSON.stringify(r.props)) {
        await call({ RequestType: 'Update', ResourceType: r.type, LogicalResourceId: r.logicalId, PhysicalResourceId: old.physicalId, ResourceProperties: r.props, OldResourceProperties: old.props });
        live.set(r.logicalId, { ...r, physicalId: old.physicalId });
      }
    }
    for (const [logicalId, old] of [...live].reverse()) {
      if (wanted.has(logicalId)) continue;
      await call({ RequestType: 'Delete', ResourceType: old.type, LogicalResourceId: logicalId, PhysicalResourceId: old.physicalId, ResourceProperties: old.props });
      live.delete(logicalId);
    }
    out.push({ step, invocations, requests: kube.log.length - before, writes: kube.writes().length - writesBefore, ms: Number(process.hrtime.bigint() - start) / 1e6 });
  };
  await deploy('first deploy of 400 grants', reconcilerResources(400));
  await deploy('one grant added (401)', reconcilerResources(401));
  await deploy('one grant revoked (back to 400)', reconcilerResources(400));
  await deploy('stack delete', undefined);
  await kube.close();
  return out;
}

function spawnCase(args: string[]): any {
  const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`bench case ${args.join(' ')} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!);
}

async function main() {
  const [, , mode, kind, n] = process.argv;
  if (mode === '--reconciler') {
    process.stdout.write(JSON.stringify(await runReconciler()) + '\n');
    return;
  }
  if (mode === '--v2') {
    process.stdout.write(JSON.stringify(runV2Case(kind as any, Number(n))) + '\n');
    return;
  }
  if (mode === '--case') {
    process.stdout.write(JSON.stringify(runCase(kind as any, Number(n))) + '\n');
    return;
  }
  if (mode === '--snapshot') {
    process.stdout.write(JSON.stringify(runSnapshot(kind === 'validation-on')) + '\n');
    return;
  }
  const sizes = [1, 100, 400];
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const rows: string[] = [];
  const fmt = (x: number, d = 0) => x.toFixed(d);
  rows.push('| N | side | wall ms (median of ' + repeats + ') | peak RSS MB | resources | RBAC custom resources | template bytes |');
  rows.push('|---|---|---|---|---|---|---|');
  const ratios: string[] = [];
  for (const n of sizes) {
    const result: Record<string, Result> = {};
    for (const kind of ['baseline', 'library'] as const) {
      const runs: Result[] = [];
      for (let r = 0; r < repeats; r++) runs.push(spawnCase(['--case', kind, String(n)]));
      runs.sort((a, b) => a.ms - b.ms);
      const med = runs[Math.floor(runs.length / 2)];
      result[kind] = { ...med, maxRssMb: Math.max(...runs.map(x => x.maxRssMb)) };
      rows.push(`| ${n} | ${kind} | ${fmt(med.ms)} | ${fmt(result[kind].maxRssMb)} | ${med.resources} | ${med.rbacCustomResources} | ${med.templateBytes} |`);
    }
    const l = result.library, b = result.baseline;
    ratios.push(`| ${n} | ${fmt(l.ms / b.ms, 2)} | ${fmt(l.maxRssMb / b.maxRssMb, 2)} | ${fmt(l.resources / b.resources, 2)} | ${fmt(l.rbacCustomResources / Math.max(1, b.rbacCustomResources), 3)} | ${fmt(l.templateBytes / b.templateBytes, 2)} |`);
  }
  console.log(`cdk-eks-access bench (node ${process.version}, ${os.cpus().length} cores)\n`);
  console.log(rows.join('\n'));
  console.log('\nRatios library / baseline (same run):\n');
  console.log('| N | wall time | peak RSS | resources | RBAC custom resources | template bytes |');
  console.log('|---|---|---|---|---|---|');
  console.log(ratios.join('\n'));

  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const snap = (setting: string) => median(Array.from({ length: repeats }, () => spawnCase(['--snapshot', setting]).ms));
  const off = snap('validation-off');
  const on = snap('validation-on');
  console.log('\nA user\'s 25-grant snapshot test (EksCluster + 25 grants + SnapshotTemplate.fromStack, in-process, median):\n');
  console.log('| app setting | ms |');
  console.log('|---|---|');
  console.log(`| recommended: CDK_VALIDATION=false, asset staging disabled | ${off.toFixed(0)} |`);
  console.log(`| aws-cdk-lib defaults (validation plugin on, assets staged) | ${on.toFixed(0)} |`);

  console.log('\naws-eks-v2, built-in levels only: this library (access entries with access policies) vs aws-eks-v2\'s cluster.grantAccess, same principals and scopes (median of ' + repeats + '):\n');
  console.log('| N | side | wall ms | resources | custom resources | template bytes |');
  console.log('|---|---|---|---|---|---|');
  const v2Ratios: string[] = [];
  for (const n of [0, 100, 400]) {
    const result: Record<string, Result> = {};
    for (const kind of ['baseline', 'library'] as const) {
      const runs = Array.from({ length: repeats }, () => spawnCase(['--v2', kind, String(n)]) as Result).sort((a, b) => a.ms - b.ms);
      result[kind] = runs[Math.floor(runs.length / 2)];
      console.log(`| ${n} | ${kind} | ${fmt(result[kind].ms)} | ${result[kind].resources} | ${result[kind].rbacCustomResources} | ${result[kind].templateBytes} |`);
    }
    const l = result.library, b = result.baseline;
    v2Ratios.push(`| ${n} | ${fmt(l.ms / b.ms, 2)} | ${fmt(l.resources / b.resources, 2)} | ${fmt(l.templateBytes / b.templateBytes, 2)} |`);
  }
  console.log('\n| N | wall time ratio | resources ratio | template bytes ratio |');
  console.log('|---|---|---|---|');
  console.log(v2Ratios.join('\n'));

  const steps = spawnCase(['--reconciler']) as Array<{ step: string; invocations: number; requests: number; writes: number; ms: number }>;
  console.log('\nThe reconciler per deploy, 400 mixed grants, through its handler against the loopback Kubernetes API (no network latency; one run):\n');
  console.log('| deploy | handler invocations | API requests | of which writes | wall ms |');
  console.log('|---|---|---|---|---|');
  for (const s of steps) console.log(`| ${s.step} | ${s.invocations} | ${s.requests} | ${s.writes} | ${s.ms.toFixed(0)} |`);
}

void main();
