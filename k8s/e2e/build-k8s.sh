#!/usr/bin/env bash
# Build Kubernetes v1.20.2 (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubelet) from Debian bookworm's `kubernetes` source package, plus a static `pause`
# binary from the same source, into "$CACHE/bin". Sourced by scripts/k8s-e2e (which
# documents the whole flow); also runnable alone:  bash k8s/e2e/build-k8s.sh
# A second call with the binaries present and the stamp matching does nothing.
set -euo pipefail

CACHE=${BULLPEN_K8S_CACHE:-/var/tmp/bullpen-k8s}
K8S_VERSION=v1.20.2
K8S_WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet"
K8S_BINS="kube-apiserver kube-controller-manager kube-scheduler kubelet pause"

k8s_build_is_cached() {
  local b
  [[ -f $CACHE/bin/.stamp && $(cat "$CACHE/bin/.stamp") == "$K8S_VERSION" ]] || return 1
  for b in $K8S_BINS; do [[ -x $CACHE/bin/$b ]] || return 1; done
}

# A private deb-src list derived from the system's own sources, with private lists
# and no package caches: the system's apt configuration and state are not touched.
k8s_fetch_source() {
  local apt=$CACHE/apt f
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/archives/partial" "$CACHE/src"
  : >"$apt/sources.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    grep -qi 'debian' "$f" || continue
    sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$apt/sources.list.d/$(basename "$f")"
  done
  if [[ -f /etc/apt/sources.list ]]; then
    sed -nE 's/^deb[[:space:]]+(.*debian.*)$/deb-src \1/p' /etc/apt/sources.list >"$apt/sources.list"
  fi
  APT_PRIVATE=(-o "Dir::Etc::SourceList=$apt/sources.list"
               -o "Dir::Etc::SourceParts=$apt/sources.list.d"
               -o "Dir::State::Lists=$apt/lists"
               -o "Dir::Cache::Archives=$apt/archives"
               -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
  apt-get "${APT_PRIVATE[@]}" -qq update
  (cd "$CACHE/src" && apt-get "${APT_PRIVATE[@]}" -q source --download-only kubernetes)
  local dsc
  dsc=$(ls -1 "$CACHE"/src/kubernetes_*.dsc | sort -V | tail -n1)
  case $dsc in *really1.20.2*) ;; *) echo "unexpected source package: $dsc" >&2; return 1 ;; esac
  rm -rf "$CACHE/src/kubernetes.tmp"
  dpkg-source --no-check -x "$dsc" "$CACHE/src/kubernetes.tmp" >/dev/null
  mv "$CACHE/src/kubernetes.tmp" "$CACHE/src/kubernetes"
}

k8s_build() {
  if k8s_build_is_cached; then echo "cached"; return 0; fi
  local need=() p
  for p in golang-go dpkg-dev gcc libc6-dev make; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
  done
  if ((${#need[@]})); then
    apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 \
      install --no-install-recommends "${need[@]}"
  fi
  [[ -d $CACHE/src/kubernetes ]] || k8s_fetch_source
  local src=$CACHE/src/kubernetes
  mkdir -p "$CACHE/bin"   # the Go cache: kube's build keeps it in _output/local/go/cache
  (
    cd "$src"
    nice -n 10 env GOPROXY=off GOFLAGS=-mod=vendor \
      KUBE_GIT_VERSION=$K8S_VERSION KUBE_GIT_TREE_STATE=clean \
      make WHAT="$K8S_WHAT"
  )
  local out=$src/_output/local/bin/linux/amd64 b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet; do
    install -m 0755 "$out/$b" "$CACHE/bin/$b"
  done
  # The pause container, statically linked, from the same source tree.
  nice -n 10 gcc -Os -Wall -static -DVERSION=v3.4.1-bullpen-e2e \
    -o "$CACHE/bin/pause" "$src/build/pause/linux/pause.c"
  echo "$K8S_VERSION" >"$CACHE/bin/.stamp"
  echo "built"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  k8s_build
fi
