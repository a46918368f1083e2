#!/usr/bin/env bash
# Synthesizes the scenario stacks (test/scenarios.ts) with the real aws-cdk CLI into
# cdk.out/scenarios, for cfn-lint and the Kubernetes validator. Offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
rm -rf cdk.out/scenarios
npx cdk synth --quiet --no-notices --no-version-reporting --no-path-metadata --no-asset-metadata \
  --app "npx ts-node --project test/tsconfig.json test/scenarios.ts" --output cdk.out/scenarios >/dev/null
echo "Synthesized scenario templates:"
find cdk.out/scenarios -maxdepth 1 -name '*.template.json' ! -name '*.nested.template.json' | sort | sed 's/^/  /'
