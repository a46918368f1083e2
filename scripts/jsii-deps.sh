#!/usr/bin/env bash
# Makes the library's own jsii dependencies (the kubectl layer packages, never in its public
# API) resolvable for one language before jsii-pacmak builds that language's package.
#
#   bash scripts/jsii-deps.sh java [-- COMMAND...]
#   bash scripts/jsii-deps.sh go [-- COMMAND...]
#
# then runs COMMAND (jsii-pacmak, or an app's build) in the caller's directory, in an
# environment where they resolve.
#
# Each dependency is taken from its registry when the registry serves the version
# node_modules has. Where it does not (on the project's machines, checked 2026-12-07: Maven
# Central serves neither software.amazon.awscdk:cdk-lambda-layer-kubectl-v28 nor -v36, and the
# Go module proxy refuses github.com/cdklabs/awscdk-kubectl-go/kubectlv36/v2), it is built
# from its npm package with the project's jsii-pacmak, the generator its publishers use, and
# cached outside the clone by package, version and jsii-pacmak version (what is installed
# from it, in ~/.m2 and the Go module proxy below, by package and version only: delete them
# to rebuild after a jsii-pacmak upgrade):
#
#   ${CDK_EKS_ACCESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk-eks-access}/jsii-deps/<language>/
#
# Java: the built artifacts are copied into the Maven local repository (~/.m2/repository),
# where Maven finds them before any remote. Go: they are served from a file-based module
# proxy in that cache, placed before the machine's GOPROXY (exported for COMMAND), and
# their modules are named in GONOSUMDB (the checksum database knows the published zips,
# not these).
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD
language=${1:?usage: jsii-deps.sh java|go [-- COMMAND...]}
shift
[ "${1:-}" != "--" ] || shift
cache="${CDK_EKS_ACCESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk-eks-access}/jsii-deps/$language"
pacmak_version=$(node -p "require('jsii-pacmak/package.json').version")
mkdir -p "$cache"

# The jsii packages among the library's own dependencies (not aws-cdk-lib's closure: those
# come from the registries with aws-cdk-lib): name, version, and this language's coordinates.
deps_list=$(node -e '
  const pkg = require("./package.json");
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    const dep = require(`${name}/package.json`);
    const t = dep.jsii?.targets;
    if (!t) continue;
    const major = dep.version.split(".")[0];
    const go = `${t.go.moduleName}/${t.go.packageName}${major > 1 ? `/v${major}` : ""}`;
    console.log([name, dep.version, `${t.java.maven.groupId}:${t.java.maven.artifactId}`, go].join(" "));
  }')
mapfile -t deps <<<"$deps_list"

# pacmak NAME VERSION: the package built for $language with jsii-pacmak, once per version.
pacmak() {
  local name=$1 version=$2 out="$cache/${1//\//+}@$2-pacmak-$pacmak_version"
  if [ ! -f "$out/.done" ]; then
    echo "jsii-deps: building $name@$version for $language with jsii-pacmak $pacmak_version (not served by the registry)" >&2
    rm -rf "$out"
    local extra=()
    [ "$language" != java ] || extra=(--maven-local-repository "$m2")
    "$root/node_modules/.bin/jsii-pacmak" --target "$language" "${extra[@]}" --outdir "$out" "$root/node_modules/$name" >"$cache/pacmak.log" 2>&1 \
      || { cat "$cache/pacmak.log" >&2; echo "jsii-deps: jsii-pacmak failed for $name@$version" >&2; exit 1; }
    touch "$out/.done"
  fi
  echo "$out/$language"
}

# Maven's own default is the Java property user.home, which ignores a changed HOME: every
# Maven run here (and jsii-pacmak's, given --maven-local-repository "$HOME/.m2/repository")
# uses this one directory.
m2="$HOME/.m2/repository"
export MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.repo.local=$m2"
case $language in
java)
  for line in "${deps[@]}"; do
    read -r name version coordinates _ <<<"$line"
    group=${coordinates%%:*} artifact=${coordinates#*:}
    dir="$m2/${group//.//}/$artifact/$version"
    # installed (metadata-local, which version ranges need) or downloaded before
    if [ -f "$dir/$artifact-$version.jar" ] && { [ -f "$dir/_remote.repositories" ] || grep -qsF "<version>$version</version>" "${dir%/*}/maven-metadata-local.xml"; }; then
      continue
    fi
    if mvn -q -B dependency:get -Dartifact="$group:$artifact:$version" -Dtransitive=false >/dev/null 2>&1; then
      continue
    fi
    built=$(pacmak "$name" "$version")/${group//.//}/$artifact/$version/$artifact-$version
    mvn -q -B install:install-file -Dfile="$built.jar" -DpomFile="$built.pom" \
      -Dsources="$built-sources.jar" -Djavadoc="$built-javadoc.jar" >/dev/null
  done
  ;;
go)
  proxy="$cache/proxy"
  mkdir -p "$proxy"
  probe=$(mktemp -d)
  trap 'rm -rf "$probe"' EXIT
  nosumdb=()
  for line in "${deps[@]}"; do
    read -r name version _ module <<<"$line"
    if (cd "$probe" && GOFLAGS=-mod=mod go mod download -json "$module@v$version" >/dev/null 2>&1); then
      continue
    fi
    nosumdb+=("$module")
    at="$proxy/$module/@v"
    # the .info file is written last: a version without it was interrupted and is made again
    if [ ! -f "$at/v$version.info" ]; then
      built=$(pacmak "$name" "$version")
      package_dir="$built/$(basename "${module%/v[0-9]*}")"
      staging="$probe/staging"
      rm -rf "$staging"
      mkdir -p "$staging/$module@v$version" "$at"
      cp -r "$package_dir/." "$staging/$module@v$version/"
      rm -f "$staging/$module@v$version/local.go.mod" "$staging/$module@v$version/local.go.sum"
      (cd "$staging" && zip -qrX "$staging/module.zip" "$module@v$version")
      mv "$staging/module.zip" "$at/v$version.zip"
      cp "$package_dir/go.mod" "$at/v$version.mod"
      grep -qxF "v$version" "$at/list" 2>/dev/null || echo "v$version" >>"$at/list"
      printf '{"Version":"v%s"}\n' "$version" >"$at/v$version.info"
    fi
  done
  rm -rf "$probe"
  trap - EXIT
  GOPROXY="file://$proxy,$(go env GOPROXY)"
  GONOSUMDB=$(IFS=,; echo "${nosumdb[*]}${GONOSUMDB:+,$GONOSUMDB}")
  export GOPROXY GONOSUMDB
  ;;
*) echo "jsii-deps: unknown language $language (java or go)" >&2; exit 1 ;;
esac

cd "$caller"
[ "$#" -eq 0 ] || exec "$@"
