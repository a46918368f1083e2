#!/usr/bin/env bash
# Builds a release of every package and prints the commands that would publish it. Publishes
# nothing: the project has no registry credentials, and CI never publishes.
#
#   npx projen release [patch|minor|major]     (default: minor)
#   bash scripts/release.sh minor --check      (the build's check: the same, then removes the output)
#
# Versions (CHANGELOG.md): semantic versioning, 0.x until the API is declared stable; the
# released version is the last `v*` git tag bumped by the kind given (0.0.0 before the first).
# As with projen's own release flow, package.json says 0.0.0 in the repository: the script
# sets the new version, bundles the handlers, compiles, runs `npx projen package-all`, checks every artifact,
# moves them to release/<version>/ and puts package.json, the compiled assembly and dist/
# back as they were, on failure too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kind=${1:-minor}
check=${2:-}
case $kind in patch | minor | major) ;; *) echo "release: the kind is patch, minor or major, not '$kind'" >&2; exit 1 ;; esac

last=$(git tag --list 'v[0-9]*' --sort=-v:refname | head -1)
last=${last#v}
next=$(node -e '
  const [major, minor, patch] = (process.argv[1] || "0.0.0").split(".").map(Number);
  const kind = process.argv[2];
  console.log(kind === "major" ? `${major + 1}.0.0` : kind === "minor" ? `${major}.${minor + 1}.0` : `${major}.${minor}.${patch + 1}`);
' "$last" "$kind")
grep -q '^## Unreleased' CHANGELOG.md \
  || { echo "release: CHANGELOG.md has no '## Unreleased' section to release as $next" >&2; exit 1; }

saved=$(mktemp -d "${TMPDIR:-/tmp}/cdk-eks-access-release-XXXXXX")
# --check builds into the temporary directory (removed at the end), never over release/
if [ -n "$check" ]; then out="$saved/release/$next"; else out="$root/release/$next"; fi
original_version=$(node -p "require('./package.json').version")
cp package.json "$saved/package.json"
[ ! -d dist ] || mv dist "$saved/dist"
restore() {
  local status=$?
  cp "$saved/package.json" package.json
  rm -rf dist
  [ ! -d "$saved/dist" ] || mv "$saved/dist" dist
  rm -rf "$saved"
  # the compiled assembly (.jsii, lib/) back at the repository's version
  npx projen compile >/dev/null 2>&1 || { echo "release: compiling back at $original_version failed" >&2; status=1; }
  exit "$status"
}
trap restore EXIT

echo "=== release: $next (last release: ${last:-none}; $kind)"
npm pkg set "version=$next" >/dev/null
npx projen pre-compile
npx projen compile
npx projen package-all

# Every artifact, at this version.
missing=()
need() { [ -f "$1" ] || missing+=("$1"); }
need "dist/js/cdk-eks-access@$next.jsii.tgz"
# the Lambda handlers (bundled at build time into assets/) ship in the package
for handler in assets/access-reconciler/index.js assets/sso-role-lookup/index.js; do
  tar -tzf "dist/js/cdk-eks-access@$next.jsii.tgz" "package/$handler" >/dev/null 2>&1 || missing+=("package/$handler in the npm tarball")
done
need "dist/python/cdk_eks_access-$next-py3-none-any.whl"
need "dist/python/cdk_eks_access-$next.tar.gz"
maven="dist/java/io/github/cdk-eks-access/cdk-eks-access/$next/cdk-eks-access-$next"
for suffix in .jar .pom -sources.jar -javadoc.jar; do need "$maven$suffix"; done
need dist/go/cdkeksaccess/go.mod
[ "$(cat dist/go/cdkeksaccess/version 2>/dev/null)" = "$next" ] || missing+=("dist/go/cdkeksaccess/version saying $next")
if command -v dotnet >/dev/null 2>&1; then
  need "dist/dotnet/CdkEksAccess.$next.nupkg"
fi
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'release: missing artifact: %s\n' "${missing[@]}" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
rm -rf "$out"
mv dist "$out"

rel=${out#"$root"/}
[ -z "$check" ] || rel=release/$next
cat <<EOF
=== release: $next built into $rel; not published. The commands that would publish it:
git tag -a v$next -m "cdk-eks-access $next" && git push origin v$next
npm publish $rel/js/cdk-eks-access@$next.jsii.tgz --access public
python3 -m twine upload $rel/python/cdk_eks_access-$next-py3-none-any.whl $rel/python/cdk_eks_access-$next.tar.gz
npx publib-maven $rel/java        # Maven Central: io.github.cdk-eks-access:cdk-eks-access:$next
npx publib-golang $rel/go         # pushes to github.com/cdk-eks-access/cdk-eks-access-go, tag cdkeksaccess/v$next
EOF
if command -v dotnet >/dev/null 2>&1; then
  echo "dotnet nuget push $rel/dotnet/CdkEksAccess.$next.nupkg --source https://api.nuget.org/v3/index.json"
else
  echo "# NuGet (CdkEksAccess $next): not built, no .NET SDK on this machine; with one: dotnet nuget push $rel/dotnet/CdkEksAccess.$next.nupkg --source https://api.nuget.org/v3/index.json"
fi
