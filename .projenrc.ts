import { awscdk, javascript } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-eks-access',
  packageName: 'cdk-eks-access',
  description:
    'AWS CDK constructs for EKS cluster access: an explicit admin role from the first deploy, and typed grants for IAM roles, users and SSO permission sets that write aws-auth and RBAC together.',
  author: 'cdk-eks-access maintainers',
  authorAddress: 'maintainers@cdk-eks-access.dev',
  repositoryUrl: 'https://github.com/cdk-eks-access/cdk-eks-access.git',
  keywords: ['cdk', 'aws-cdk', 'eks', 'kubernetes', 'aws-auth', 'rbac', 'iam', 'sso'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  bin: { 'cdk-eks-access': 'bin/cdk-eks-access' },

  // access entries need aws-cdk-lib >= 2.146. 2.263.0 is the newest release that every
  // registry the language packages resolve from serves (checked 2026-12-07: PyPI has up to
  // 2.275.0; Maven Central serves the jar of 2.263.0, 2.271.0 and 2.272.0 but not of 2.264.0
  // to 2.270.0; the Go module proxy refuses 2.271.0 and 2.272.0), so the Python, Java and Go
  // apps build against the same aws-cdk-lib as TypeScript.
  cdkVersion: '2.263.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  // engines: the Node versions aws-cdk-lib 2.263 supports (>= 20). CI tests Node 20 only;
  // README says which ones are supported and which one is tested.
  minNodeVersion: '20.0.0',

  // kubectl layers are used internally (never in the public API), so plain dependencies.
  deps: ['@aws-cdk/lambda-layer-kubectl-v28', '@aws-cdk/lambda-layer-kubectl-v36'],
  // yaml (ISC, no dependencies of its own): the command line reads aws-auth with the
  // reconciler's reader, so the published package needs it; jsii requires non-jsii
  // dependencies to be bundled into the tarball.
  bundledDeps: ['yaml@^2'],
  devDeps: [
    // aws-cdk-lib 2.263 depends on this jsii module (^54.11.0) but ships it only nested in its
    // own node_modules (inside a bundled dependency), where jsii does not look: installed at
    // the top level for the compiler, at the version aws-cdk-go 2.263.0 requires, because
    // jsii-pacmak writes this version into the Go modules' go.mod (54.26.0, the nested copy's,
    // is not served by the Go module proxy).
    '@aws-cdk/cloud-assembly-schema@54.11.0',
    'aws-cdk@^2.1100.0', 'cdk-nag@^3', 'fast-check@^4',
    // kubernetes-models 5.x requires Node >= 22; 4.5.1 is the newest whose engines include Node 20 (CI's Node)
    'kubernetes-models@4.5.1',
    'esbuild@^0.28', '@aws-sdk/client-iam@^3', '@aws-sdk/client-sts@^3', '@aws-sdk/client-eks@^3', '@aws-sdk/client-cloudformation@^3',
    // the EKS token's SigV4 signer, bundled into the reconciler at exact versions (the Lambda runtime does not document its own)
    '@smithy/signature-v4@5.7.5', '@smithy/core@3.41.1',
  ],

  // Every jsii language, named as Construct Hub libraries are (README "Install" says how each
  // name follows from the npm name). Nothing is published: the `release` task prints the
  // commands it would run.
  publishToPypi: { distName: 'cdk-eks-access', module: 'cdk_eks_access' },
  publishToMaven: {
    javaPackage: 'io.github.cdkeksaccess',
    mavenGroupId: 'io.github.cdk-eks-access',
    mavenArtifactId: 'cdk-eks-access',
  },
  publishToGo: { moduleName: 'github.com/cdk-eks-access/cdk-eks-access-go', packageName: 'cdkeksaccess' },
  publishToNuget: { dotNetNamespace: 'CdkEksAccess', packageId: 'CdkEksAccess' },

  // no GitHub machinery: CI is .ci/run
  github: false,
  release: false,
  depsUpgrade: false,
  buildWorkflow: false,

  gitignore: ['/cdk.out/', '/examples/cdk.out/', '/bench-out/', '.cdk.staging', '/assets/', '/examples/java/target/', '__pycache__/', '/release/'],

  jestOptions: {
    // snapshots are compared, never rewritten by the test command
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      // synthesizing EKS stacks takes seconds each
      testTimeout: 120_000,
      // two cores here and in CI
      maxWorkers: 2,
      collectCoverage: false,
      // the real components (kube-apiserver, etcd, aws-iam-authenticator's reader), built from
      // pinned versions and started once per run on loopback; stopped at the end (test/real/)
      globalSetup: '<rootDir>/test/real/global-setup.ts',
      globalTeardown: '<rootDir>/test/real/global-teardown.ts',
    },
  },
  tsconfigDev: {
    compilerOptions: {},
    include: ['../examples/**/*.ts', '../scripts/**/*.ts'],
  },
});

// Lambda handlers are TypeScript in src/handlers, bundled at build time (never at synth)
// into assets/, which the package ships. The AWS SDK v3 comes with the Lambda Node.js runtime.
const bundle = project.addTask('bundle:handlers', {
  description: 'Bundle the custom-resource Lambda handlers with esbuild into assets/',
  exec: [
    'esbuild src/handlers/sso-role-lookup/index.ts --bundle --platform=node --target=node22 --external:@aws-sdk/* --outfile=assets/sso-role-lookup/index.js --log-level=warning',
    // yaml (ISC) is bundled in: aws-auth written by EKS, eksctl or by hand is YAML.
    // @smithy/signature-v4 and @smithy/core (Apache-2.0, the SDK's SigV4 signer for the EKS
    // token) are bundled in at the exact versions of devDependencies: the Lambda runtime does
    // not document which @smithy versions it ships. Their ES modules (main-fields) let esbuild
    // drop what the signer does not use (335 KB instead of 679 KB).
    'esbuild src/handlers/access-reconciler/index.ts --bundle --platform=node --target=node22 --external:@aws-sdk/* --main-fields=module,main --outfile=assets/access-reconciler/index.js --log-level=warning',
  ].join(' && '),
});
project.preCompileTask.spawn(bundle);
project.testTask.prependSpawn(bundle);

// Synthesizes the examples with the real aws-cdk CLI (no AWS account needed). README's
// first command runs it on a fresh clone, where assets/ does not exist yet: it bundles
// the handlers first (about a second).
const synthExamples = project.addTask('synth:examples', {
  description: 'Bundle the handlers, synthesize every example app to CloudFormation (offline) and print where the templates are',
});
synthExamples.spawn(bundle);
synthExamples.exec('bash scripts/synth-examples.sh');

project.addTask('synth:scenarios', {
  description: 'Synthesize the scenario stacks of test/scenarios.ts (seed scenarios, 400 grants, each authentication mode)',
  exec: 'bash scripts/synth-scenarios.sh',
});

project.addTask('validate:k8s', {
  description: 'Validate every generated Kubernetes object against Kubernetes API schemas and strict checks',
  exec: 'node scripts/validate-k8s.mjs cdk.out',
});

// Lints every synthesized template with the real cfn-lint.
project.addTask('lint:templates', {
  description: 'Run cfn-lint on every template synthesized by the examples',
  exec: 'bash scripts/lint-templates.sh',
});

project.addTask('lifecycle:soak', {
  description: 'A larger run of the reconciler lifecycle property (LIFECYCLE_RUNS, default 2000; LIFECYCLE_SEED to replay)',
  exec: 'bash scripts/lifecycle-soak.sh',
});

project.addTask('bench', {
  description: 'Benchmark synthesis against plain aws-cdk-lib (prints a table with ratios)',
  env: { TS_NODE_PROJECT: 'test/tsconfig.json' },
  exec: 'node -r ts-node/register/transpile-only scripts/bench.ts',
});

// API docs (API.md is generated from the .jsii assembly the compile step writes): every
// exported member described, every member a doc comment names exists.
project.addTask('check:docs', {
  description: 'Check the doc comments of the public API in the .jsii assembly (descriptions present, named members exist)',
  exec: 'node scripts/check-docs.mjs .jsii',
});

// The packed library (the tarball `npx projen package` writes to dist/js) installed into a
// fresh `cdk init app` and synthesized with the real CLI: runs as the build's last step.
const installTest = project.addTask('test:install', {
  description: 'Install the packed library into a fresh cdk init app (npm cache first) and synthesize it with the aws-cdk CLI',
  exec: 'bash scripts/install-test.sh',
});

// jsii fails on its own warnings, reserved words included (projen silences those by
// default): a name reserved in one jsii language is renamed there (`namespace` becomes
// `namespace_` in C#), which reads badly.
project.compileTask.reset('jsii --fail-on-warnings');
project.tasks.tryFind('watch')!.reset('jsii -w --fail-on-warnings');

// Java and Go: the kubectl layer packages (jsii dependencies of the library) are taken from
// Maven Central and the Go module proxy where they are served, else built from their npm
// packages and cached outside the clone (scripts/jsii-deps.sh). Maven uses the machine's
// local repository (~/.m2), not a new one per build, so aws-cdk-lib's jars are downloaded once.
project.tasks.tryFind('package:java')!.reset(
  'bash scripts/jsii-deps.sh java -- jsii-pacmak -v --target java --maven-local-repository "$HOME/.m2/repository"');
// The Go module is compiled, not only generated: jsii-pacmak 1.140 runs `go build` unless
// JSII_BUILD_GO is false (earlier releases only when it was set), so the task sets it.
project.tasks.tryFind('package:go')!.reset('bash scripts/jsii-deps.sh go -- jsii-pacmak -v --target go');
project.tasks.tryFind('package:go')!.env('JSII_BUILD_GO', '1');
// No .NET SDK on the project's machines: the NuGet target stays configured, and its build is
// skipped where `dotnet` is missing, saying so.
project.tasks.tryFind('package:dotnet')!.reset('bash scripts/package-dotnet.sh');

// The language tier: every jsii package built, and the Python and Java (and Go) example apps,
// installed from those packages into fresh environments, synthesized with the aws-cdk CLI and
// compared with the TypeScript example (scripts/language-apps.sh).
const testLanguages = project.addTask('test:languages', {
  description: 'Build the Python, Java, Go (and .NET, where its SDK is installed) packages, then synthesize the Python, Java and Go apps and compare them with TypeScript',
});
for (const language of ['python', 'java', 'go', 'dotnet']) {
  testLanguages.spawn(project.tasks.tryFind(`package:${language}`)!);
}
testLanguages.exec('bash scripts/language-apps.sh');

// `package` packs the npm tarball, installs it into a fresh app, then runs the language tier:
// the same steps with CI set (as .ci/run sets it) and without (projen's default packages the
// other languages only outside CI).
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);
project.packageTask.spawn(installTest);
project.packageTask.spawn(testLanguages);

// Releases (CHANGELOG.md): `npx projen release [patch|minor|major]` bumps the version, builds
// every package into release/<version>/ and prints the publishing commands; it publishes
// nothing. The build runs it the same way, checks every artifact and removes the output.
project.addTask('release', {
  description: 'Build a release of every package into release/<version>/ (default minor) and print the publishing commands (publishes nothing)',
  exec: 'bash scripts/release.sh',
  receiveArgs: true,
});
const testRelease = project.addTask('test:release', {
  description: 'Run the release up to publishing (version bumped, every package built and checked), then remove its output',
  exec: 'bash scripts/release.sh minor --check',
});
project.packageTask.spawn(testRelease);

// README "Adopting an existing cluster", end to end: import the sample aws-auth, compare with
// what the example app has pasted, synthesize it, plan against the sample (and a changed one).
project.addTask('test:adopt', {
  description: 'Run the adoption flow of README (import, paste, synth, plan) on examples/adopt/aws-auth.yaml',
  exec: 'bash scripts/adopt-test.sh',
});

// The whole test suite: unit tests, eslint, then examples synthesized and linted.
project.testTask.spawn(project.tasks.tryFind('check:docs')!);
project.testTask.spawn(project.tasks.tryFind('synth:examples')!);
project.testTask.spawn(project.tasks.tryFind('synth:scenarios')!);
project.testTask.spawn(project.tasks.tryFind('lint:templates')!);
project.testTask.spawn(project.tasks.tryFind('validate:k8s')!);
project.testTask.spawn(project.tasks.tryFind('test:adopt')!);

project.addPackageIgnore('/examples/');
project.addPackageIgnore('/scripts/');
project.addPackageIgnore('/.ci/');
project.addPackageIgnore('/cdk.out/');
project.addPackageIgnore('/test-reports/');

project.synth();
