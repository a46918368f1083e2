#!/usr/bin/env bash
# The NuGet package (CdkEksAccess) where a .NET SDK is installed; skipped, saying so, where
# none is (the project's machines have none). Its configuration stays in .projenrc.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v dotnet >/dev/null 2>&1; then
  exec npx jsii-pacmak -v --target dotnet
fi
echo "package:dotnet: skipped: no .NET SDK (dotnet) on this machine; the NuGet target (CdkEksAccess) stays configured"
