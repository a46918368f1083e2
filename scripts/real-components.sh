#!/usr/bin/env bash
# Builds the real components the tests judge the library by (test/real/README.md), each from
# a version pinned in this repository, and prints where they are as one JSON object on stdout
# (progress goes to stderr). test/real/global-setup.ts runs it before every test run.
#
# Each component is cached outside the clone by name, version and a digest of its Go module
# (go.mod, go.sum, *.go) and of the Go toolchain's version, so a fresh clone on the same
# machine (as .ci/run uses) reuses it:
#   ${CDK_EKS_ACCESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk-eks-access}/real/<name>-<version>-<digest>/
# Go's own module and build caches (GOMODCACHE, GOCACHE) are outside the clone too.
#
# A component that cannot be built fails the script, naming the component and the step.
set -euo pipefail
cd "$(dirname "$0")/.."

cache_root="${CDK_EKS_ACCESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk-eks-access}/real"
fail() { echo "real components: $1: $2" >&2; exit 1; }
command -v go >/dev/null 2>&1 || fail "all" "go not found on PATH: the tests build kube-apiserver, etcd and aws-iam-authenticator's reader from source with Go (1.26; see README, Prerequisites)"
go_version=$(go env GOVERSION) || fail "all" "'go env GOVERSION' failed"

# build NAME VERSION MODULE_DIR OUTPUT PACKAGE [LDFLAGS]: one binary of one module, cached.
built_dirs=()
build() {
  local name=$1 version=$2 dir=$3 out=$4 pkg=$5 ldflags=${6:-}
  local digest
  digest=$( { echo "$go_version $ldflags $(go env GOOS GOARCH CGO_ENABLED) -trimpath"; cat "$dir/go.mod" "$dir/go.sum"; cat "$dir"/*.go; } | sha256sum | cut -c1-16)
  local target="$cache_root/$name-$version-$digest"
  if [ -x "$target/$out" ]; then
    echo "real components: $name $version: cached in $target" >&2
  else
    local start=$SECONDS
    echo "real components: $name $version: building $pkg (first run on this machine; the module download and compile take minutes)" >&2
    mkdir -p "$cache_root"
    # built into a directory of this run's own, then moved into place in one step: a
    # concurrent run never sees (or removes) a half-written binary
    local tmp
    tmp=$(mktemp -d "$cache_root/.$name.XXXXXX")
    (cd "$dir" && go mod download) >&2 || fail "$name $version" "downloading its Go modules failed (go mod download in $dir)"
    (cd "$dir" && go build -trimpath ${ldflags:+-ldflags "$ldflags"} -o "$tmp/$out" "$pkg") >&2 \
      || fail "$name $version" "go build $pkg failed (in $dir)"
    mv -T "$tmp" "$target" 2>/dev/null || rm -rf "$tmp" # another run got there first: keep its build
    echo "real components: $name $version: built in $((SECONDS - start)) s" >&2
  fi
  built_dirs+=("\"$name\": \"$target/$out\"")
}

kube_version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' test/real/kube/go.mod)
etcd_version=$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" { print $3 }' test/real/etcd/go.mod)
auth_version=$(awk '$1 == "require" && $2 == "sigs.k8s.io/aws-iam-authenticator" { print $3 }' test/real/authenticator/go.mod)
[ -n "$kube_version" ] && [ -n "$etcd_version" ] && [ -n "$auth_version" ] \
  || fail "all" "a pinned version is missing from test/real/*/go.mod"

build authenticator "$auth_version" test/real/authenticator authenticator . "-X main.version=$auth_version"
build etcd "$etcd_version" test/real/etcd etcd go.etcd.io/etcd/server/v3
# The version stamps Kubernetes' own build sets (hack/lib/version.sh), so /version and
# `kubectl version` name the release (kubectl refuses to compare versions without them).
kube_minor=$(echo "$kube_version" | cut -d. -f2)
kube_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor -X $pkg.gitTreeState=clean"
done
build kube-apiserver "$kube_version" test/real/kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
build kubectl "$kube_version" test/real/kube kubectl k8s.io/kubernetes/cmd/kubectl "$kube_ldflags"
# Only its clusterrole-aggregation controller runs: it fills the admin, edit and view
# ClusterRoles from the aggregate-to-* ones, as on every real cluster (RBAC is judged with them).
build kube-controller-manager "$kube_version" test/real/kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"

versions="\"versions\": {\"kubernetes\": \"$kube_version\", \"etcd\": \"$etcd_version\", \"awsIamAuthenticator\": \"$auth_version\", \"go\": \"$go_version\"}"
(IFS=,; echo "{${built_dirs[*]}, $versions}")
