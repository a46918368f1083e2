#!/usr/bin/env bash
# Synthesizes every example app to CloudFormation with the real aws-cdk CLI.
# Offline: the example stacks are environment-agnostic, so no AWS account or credentials are used.
set -euo pipefail
cd "$(dirname "$0")/.."
out=cdk.out
for app in examples/*.ts; do rm -rf "$out/$(basename "$app" .ts)"; done
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
for app in examples/*.ts; do
  name=$(basename "$app" .ts)
  npx cdk synth --quiet --no-notices --no-version-reporting --no-path-metadata --no-asset-metadata \
    --app "npx ts-node --project test/tsconfig.json $app" --output "$out/$name" >/dev/null
done
echo "Synthesized templates:"
find "$out" -maxdepth 2 -name '*.template.json' | sort | sed 's/^/  /'
