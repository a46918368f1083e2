#!/usr/bin/env bash
# Installs the packed library into a fresh app, as a user would, and synthesizes it with the
# real aws-cdk CLI. Runs after `npx projen package` (the build's last step), on the tarball
# it wrote to dist/js: the one README tells users to install until the package is published.
#
# The app is what `cdk init app --language typescript --generate-only` writes (bin/, lib/,
# cdk.json, tsconfig.json, package.json), with three changes that keep the install small
# and served from the npm cache (--prefer-offline): no jest (no tests run in it), the
# versions of aws-cdk-lib, constructs, typescript and @types/node this project uses, and
# ts-node (also this project's) in place of tsx in cdk.json's app command. `npx tsc` still
# type-checks the app first, which is where two copies of aws-cdk-lib would fail (TS2345).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

shopt -s nullglob
tarballs=(dist/js/cdk-eks-access@*.jsii.tgz)
[ "${#tarballs[@]}" -eq 1 ] || { echo "install-test: expected one tarball in dist/js (npx projen package writes it), found ${#tarballs[@]}" >&2; exit 1; }
tarball="$root/${tarballs[0]}"

# The handlers are bundled at build time and must ship in the package.
for handler in assets/access-reconciler/index.js assets/sso-role-lookup/index.js; do
  tar -tzf "$tarball" "package/$handler" >/dev/null 2>&1 \
    || { echo "install-test: $handler is missing from $tarball" >&2; exit 1; }
done

version() { node -p "require('$root/node_modules/$1/package.json').version"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
mkdir "$tmp/my-app" && cd "$tmp/my-app"
out=$("$root/node_modules/.bin/cdk" init app --language typescript --generate-only 2>&1) \
  || { echo "$out" >&2; echo "install-test: cdk init failed" >&2; exit 1; }
rm -rf test jest.config.js
stack_file=$(ls lib/*-stack.ts)
bin_file=$(ls bin/*.ts)

node - "$(version aws-cdk-lib)" "$(version constructs)" "$(version typescript)" "$(version @types/node)" "$(version ts-node)" <<'EOF'
const fs = require('fs');
const [libVersion, constructsVersion, tsVersion, nodeTypesVersion, tsNodeVersion] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
pkg.scripts = { build: 'tsc', cdk: 'cdk' };
pkg.devDependencies = { '@types/node': nodeTypesVersion, 'ts-node': tsNodeVersion, typescript: tsVersion };
pkg.dependencies = { 'aws-cdk-lib': libVersion, constructs: constructsVersion };
fs.writeFileSync('package.json', JSON.stringify(pkg, null, 2) + '\n');
const tsconfig = JSON.parse(fs.readFileSync('tsconfig.json', 'utf8'));
tsconfig.compilerOptions.types = ['node'];
fs.writeFileSync('tsconfig.json', JSON.stringify(tsconfig, null, 2) + '\n');
const cdkJson = JSON.parse(fs.readFileSync('cdk.json', 'utf8'));
cdkJson.app = cdkJson.app.replace(/npx tsx (\S+)/, 'npx ts-node --prefer-ts-exts $1');
if (!cdkJson.app.includes('ts-node')) throw new Error(`unexpected app command in cdk.json: ${cdkJson.app}`);
fs.writeFileSync('cdk.json', JSON.stringify(cdkJson, null, 2) + '\n');
EOF

start=$SECONDS
npm install --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null
npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
installed=$((SECONDS - start))

# The command line from the package (yaml is bundled in): import the sample aws-auth of
# README's "Adopting an existing cluster"; its statements are pasted into the stack below,
# so the synth type-checks them against the installed package.
imported=$(npx --no-install cdk-eks-access import "$root/examples/adopt/aws-auth.yaml" 2>"$tmp/import.err") \
  || { cat "$tmp/import.err" >&2; echo "install-test: cdk-eks-access import failed" >&2; exit 1; }
grep -q 'AccessLevel.clusterAdmin()' <<<"$imported" || { echo "install-test: import printed no grants: $imported" >&2; exit 1; }

# The stack: README's quick start plus a grant.
stack_class=$(sed -n 's/^export class \([A-Za-z0-9_]*\) extends cdk.Stack.*/\1/p' "$stack_file")
cat > "$stack_file" <<EOF
import * as cdk from 'aws-cdk-lib/core';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AccessLevel, AccessPrincipal, EksCluster } from 'cdk-eks-access';

export class $stack_class extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    const cluster = new EksCluster(this, 'Cluster', {
      version: eks.KubernetesVersion.V1_35,
      adminPrincipal: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/PlatformOps'),
      defaultCapacity: 0,
    });
    cluster.grantSsoPermissionSet(
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01',
      AccessLevel.namespaceView('team-a'));
    // cdk-eks-access import examples/adopt/aws-auth.yaml
$imported
  }
}
EOF

start=$SECONDS
"$root/node_modules/.bin/cdk" synth --quiet --no-notices >/dev/null
synthesized=$((SECONDS - start))

template=$(ls cdk.out/*.template.json | grep -v nested | head -1)
grep -q 'Custom::CdkEksAccessAwsAuth' "$template" \
  || { echo "install-test: no Custom::CdkEksAccessAwsAuth in $template" >&2; exit 1; }
grep -q 'AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01' "$template" \
  || { echo "install-test: the grant is missing from $template" >&2; exit 1; }
# plan from the package: the sample's entries adopted, the app's own added
status=0
npx --no-install cdk-eks-access plan --aws-auth "$root/examples/adopt/aws-auth.yaml" cdk.out >"$tmp/plan.txt" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$tmp/plan.txt" >&2; echo "install-test: cdk-eks-access plan exited $status" >&2; exit 1; }
grep -q '^= adopt   mapRoles arn:aws:iam::111122223333:role/PlatformOps:' "$tmp/plan.txt" \
  && grep -q '^+ add     mapRoles arn:aws:iam::111122223333:role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01:' "$tmp/plan.txt" \
  || { cat "$tmp/plan.txt" >&2; echo "install-test: plan did not adopt the imported entries and add the app's grant" >&2; exit 1; }

echo "install-test: $(basename "$tarball") installed into a cdk init app ($(basename "$bin_file"), $(basename "$stack_file")) in ${installed} s, synthesized with the aws-cdk CLI in ${synthesized} s; its cdk-eks-access import and plan ran"
