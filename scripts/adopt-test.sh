#!/usr/bin/env bash
# README "Adopting an existing cluster", end to end on the sample ConfigMap
# examples/adopt/aws-auth.yaml, with the command line run from src/ (the packed one is run by
# scripts/install-test.sh):
#   1. import: its output must be what examples/adopt/app.ts has pasted and what README shows
#      (so both are the real output, and the pasted code compiles: the synth below type-checks it);
#   2. synthesize that app with the real aws-cdk CLI;
#   3. plan against the sample: exit 0, the imported entries adopted, the new grant added,
#      the node role left alone;
#   4. plan against a changed sample (an entry that differs): exit 1, refused with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
cli="node -r ts-node/register/transpile-only -e process.exitCode=require('./src/cli').main(process.argv.slice(1))"
export TS_NODE_PROJECT=test/tsconfig.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
fail() { echo "adopt-test: $*" >&2; exit 1; }

# 1. import, compared with what the app has pasted
$cli import examples/adopt/aws-auth.yaml --var access >"$tmp/imported.ts" 2>"$tmp/import.err" || fail "import failed: $(cat "$tmp/import.err")"
sed -n '/--- pasted: /,/--- end of pasted/p' examples/adopt/app.ts | sed '1d;$d' | sed 's/^  //' >"$tmp/pasted.ts"
diff -u "$tmp/pasted.ts" "$tmp/imported.ts" >"$tmp/diff" \
  || fail "examples/adopt/app.ts does not hold what import prints now; paste it again:
$(cat "$tmp/diff")"

# README shows the grant lines of that output: they must be the real ones
grep -E '^ +access\.grant\(' README.md | sed 's/^ *//' >"$tmp/readme.ts"
[ -s "$tmp/readme.ts" ] || fail "README shows no access.grant( lines of the import"
grep -F 'access.grant(' "$tmp/imported.ts" | diff -u "$tmp/readme.ts" - >"$tmp/diff" \
  || fail "README's import output differs from what import prints now:
$(cat "$tmp/diff")"

# 2. synthesize the app (ts-node type-checks it)
npx cdk synth --quiet --no-notices --no-version-reporting \
  --app "npx ts-node --project test/tsconfig.json examples/adopt/app.ts" --output "$tmp/cdk.out" >/dev/null 2>"$tmp/synth.err" \
  || fail "cdk synth of examples/adopt/app.ts failed: $(cat "$tmp/synth.err")"

# 3. plan: adopted, added, left alone
status=0
$cli plan --aws-auth examples/adopt/aws-auth.yaml "$tmp/cdk.out" >"$tmp/plan.txt" 2>"$tmp/plan.err" || status=$?
[ "$status" -eq 0 ] || fail "plan exited $status: $(cat "$tmp/plan.txt" "$tmp/plan.err")"
for expected in \
  '= adopt   mapRoles arn:aws:iam::111122223333:role/PlatformOps:' \
  '= adopt   mapRoles arn:aws:iam::111122223333:role/AWSReservedSSO_Developers_0123456789abcdef:' \
  '= adopt   mapUsers arn:aws:iam::111122223333:user/ci/deployer:' \
  '+ add     mapRoles arn:aws:iam::111122223333:role/Auditor:' \
  '  leave   mapRoles arn:aws:iam::111122223333:role/eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F:' \
  '1 to add, 0 to change, 0 to remove, 3 to adopt'; do
  grep -qF -- "$expected" "$tmp/plan.txt" || fail "plan does not say: $expected
$(cat "$tmp/plan.txt")"
done

# 4. an entry someone changed since the import: the deploy would be refused
sed 's/username: ci-deployer/username: ci-deployer-2/' examples/adopt/aws-auth.yaml >"$tmp/changed.yaml"
status=0
$cli plan --aws-auth "$tmp/changed.yaml" "$tmp/cdk.out" >"$tmp/refused.txt" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "plan on a changed aws-auth exited $status, expected 1: $(cat "$tmp/refused.txt")"
{ grep -q '^REFUSED' "$tmp/refused.txt" && grep -q 'already maps arn:aws:iam::111122223333:user/ci/deployer' "$tmp/refused.txt"; } || fail "the refusal does not name the entry: $(cat "$tmp/refused.txt")"
echo "adopt-test: import matches examples/adopt/app.ts, the app synthesizes, plan adopts 3 entries and adds 1 (exit 0), and refuses a changed entry (exit 1)"
