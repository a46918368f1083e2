#!/usr/bin/env bash
# The language tier's apps: examples/python, examples/java and examples/go (the cluster and
# grants of examples/app.ts) installed from the packages the build just wrote (dist/python,
# dist/java, dist/go)
# into fresh environments, synthesized with the real aws-cdk CLI with the flags the
# TypeScript examples use, and compared with the TypeScript example: templates equal as JSON
# (after removing only AWS::CDK::Metadata, its condition and resources' Metadata), and the
# same answers and reasons from AccessReport.canI for the same two questions.
#
# Runs after `npx projen package:python package:java package:go` (test:languages spawns
# them first). Python: a new venv each run, aws-cdk-lib and constructs from PyPI at the
# TypeScript build's versions (pip's cache, outside the clone, keeps the wheels). Java: Maven
# with the machine's local repository (~/.m2), the library from dist/java. Go: a copy of the
# app whose go.mod points at dist/go, its modules from the Go module proxy (Go's module and
# build caches, outside the clone, keep them) and the kubectl layer module from
# scripts/jsii-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "language-apps: $*" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cdk-eks-access-languages-XXXXXX")
trap 'rm -rf "$work"' EXIT
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
cdk="$root/node_modules/.bin/cdk"
flags=(synth --quiet --no-notices --no-version-reporting --no-path-metadata --no-asset-metadata)
version() { node -p "require('$root/node_modules/$1/package.json').version"; }
cdk_version=$(version aws-cdk-lib)
constructs_version=$(version constructs)
lib_version=$(node -p "require('$root/package.json').version")

# The apps name the versions the TypeScript build uses.
for pin in "aws-cdk-lib==$cdk_version" "constructs==$constructs_version" \
  "aws-cdk.asset-awscli-v1==$(version @aws-cdk/asset-awscli-v1)" \
  "aws-cdk.asset-node-proxy-agent-v6==$(version @aws-cdk/asset-node-proxy-agent-v6)" \
  "aws-cdk.lambda-layer-kubectl-v28==$(version @aws-cdk/lambda-layer-kubectl-v28)" \
  "aws-cdk.lambda-layer-kubectl-v36==$(version @aws-cdk/lambda-layer-kubectl-v36)"; do
  grep -qxF "$pin" examples/python/requirements.txt \
    || fail "examples/python/requirements.txt must pin $pin (the TypeScript build's version)"
done
grep -q "<cdk-eks-access.version>$lib_version</cdk-eks-access.version>" examples/java/pom.xml \
  || fail "examples/java/pom.xml must set cdk-eks-access.version to $lib_version (package.json's)"
grep -q "<cdk.version>$cdk_version</cdk.version>" examples/java/pom.xml \
  || fail "examples/java/pom.xml must set cdk.version to $cdk_version (the TypeScript build's)"
grep -q "<constructs.version>$constructs_version</constructs.version>" examples/java/pom.xml \
  || fail "examples/java/pom.xml must set constructs.version to $constructs_version (the TypeScript build's)"
grep -q "<node-proxy-agent.version>$(version @aws-cdk/asset-node-proxy-agent-v6)</node-proxy-agent.version>" examples/java/pom.xml \
  || fail "examples/java/pom.xml must set node-proxy-agent.version to $(version @aws-cdk/asset-node-proxy-agent-v6) (the TypeScript build's)"
shopt -s nullglob
wheels=(dist/python/cdk_eks_access-"$lib_version"-py3-none-any.whl)
[ "${#wheels[@]}" -eq 1 ] || fail "no wheel for $lib_version in dist/python: run npx projen package:python first"
[ -f "dist/java/io/github/cdk-eks-access/cdk-eks-access/$lib_version/cdk-eks-access-$lib_version.jar" ] \
  || fail "no jar for $lib_version in dist/java: run npx projen package:java first"
[ "$(cat dist/go/cdkeksaccess/version 2>/dev/null)" = "$lib_version" ] \
  || fail "no Go module for $lib_version in dist/go: run npx projen package:go first"
grep -q "github.com/aws/aws-cdk-go/awscdk/v2 v$cdk_version\$" examples/go/go.mod \
  || fail "examples/go/go.mod must require github.com/aws/aws-cdk-go/awscdk/v2 v$cdk_version (the TypeScript build's)"

timed() { local what=$1 start=$SECONDS; shift; "$@"; echo "language-apps: $what: $((SECONDS - start)) s"; }

# --- TypeScript, the reference ---------------------------------------------------------
# (transpiled only: the test command type-checks examples/ and scripts/ elsewhere)
typescript() {
  export TS_NODE_TRANSPILE_ONLY=true
  "$cdk" "${flags[@]}" --app "npx ts-node --project test/tsconfig.json examples/app.ts" --output "$work/typescript" >/dev/null
  npx ts-node --project test/tsconfig.json scripts/can-i-example.ts "$work/typescript-can-i.json"
  unset TS_NODE_TRANSPILE_ONLY
}
timed "TypeScript example synthesized" typescript

compare() {
  local label=$1 out=$2
  node scripts/compare-templates.mjs "$work/typescript" "$out" "$label"
  node -e '
    const [a, b, label] = process.argv.slice(1);
    const [ts, other] = [a, b].map(f => JSON.parse(require("fs").readFileSync(f, "utf8")));
    if (JSON.stringify(ts) !== JSON.stringify(other)) {
      console.error(`${label}: canI answers differ from TypeScript\x27s:\n${JSON.stringify(ts, null, 2)}\n${JSON.stringify(other, null, 2)}`);
      process.exit(1);
    }
    if (!(ts[0].allowed === true && ts[1].allowed === false)) { console.error(`${label}: expected one allowed and one denied answer`); process.exit(1); }
    console.log(`${label}: canI answers equal to TypeScript\x27s (${ts.map(x => `${x.resource}: ${x.allowed ? "allowed" : "denied"}`).join(", ")})`);
  ' "$work/typescript-can-i.json" "$out-can-i.json" "$label"
}

# --- Python ------------------------------------------------------------------------------
python_app() {
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check -r examples/python/requirements.txt "${wheels[0]}"
  (cd examples/python && PATH="$work/venv/bin:$PATH" CAN_I_OUT="$work/python-can-i.json" "$cdk" "${flags[@]}" --output "$work/python" >/dev/null)
}
mkdir -p "$work/python"
timed "Python app installed and synthesized" python_app
compare Python "$work/python"

# --- Java --------------------------------------------------------------------------------
java_app() {
  # Maven keeps what it downloads from a repository; the library's jar of this version changes
  # with every build, so the copy from an earlier build is removed first.
  rm -rf "$HOME/.m2/repository/io/github/cdk-eks-access/cdk-eks-access/$lib_version"
  # the local repository scripts/jsii-deps.sh and package:java use (Maven's default ignores HOME)
  (cd examples/java && MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.repo.local=$HOME/.m2/repository" CAN_I_OUT="$work/java-can-i.json" "$cdk" "${flags[@]}" --output "$work/java" >/dev/null)
}
mkdir -p "$work/java"
timed "Java app built and synthesized" java_app
compare Java "$work/java"

# --- Go ----------------------------------------------------------------------------------
go_app() {
  cp -r examples/go "$work/go-app"
  sed -i "s|=> ../../dist/go/cdkeksaccess|=> $root/dist/go/cdkeksaccess|" "$work/go-app/go.mod"
  (cd "$work/go-app" && bash "$root/scripts/jsii-deps.sh" go -- bash -c "
    go mod tidy >/dev/null 2>&1 || go mod tidy
    CAN_I_OUT='$work/go-can-i.json' '$cdk' ${flags[*]} --output '$work/go' >/dev/null")
}
mkdir -p "$work/go"
timed "Go app built and synthesized" go_app
compare Go "$work/go"
