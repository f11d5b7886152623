{{/* Names ---------------------------------------------------------------------------------- */}}

{{- define "nnrosetta.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nnrosetta.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "nnrosetta.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <fullname>-<component>; args: dict "root" $ "component" NAME */}}
{{- define "nnrosetta.componentName" -}}
{{- printf "%s-%s" (include "nnrosetta.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels; args: dict "root" $ "component" NAME "role" gateway|converter|storage */}}
{{- define "nnrosetta.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nnrosetta.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "nnrosetta.labels" -}}
helm.sh/chart: {{ include "nnrosetta.chart" .root }}
{{ include "nnrosetta.selectorLabels" . }}
app.kubernetes.io/part-of: nnrosetta
nnrosetta.io/role: {{ .role }}
{{- if .root.Chart.AppVersion }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selects the pods of one role (all converters, the gateway, the storage) of this release. */}}
{{- define "nnrosetta.roleSelector" -}}
app.kubernetes.io/name: {{ include "nnrosetta.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
nnrosetta.io/role: {{ .role }}
{{- end }}

{{/* Images -------------------------------------------------------------------------------- */}}

{{/* args: dict "root" $ "image" (component image map) */}}
{{- define "nnrosetta.image" -}}
{{- $g := .root.Values.image }}
{{- $tag := .image.tag | default $g.tag | default .root.Chart.AppVersion }}
{{- if $g.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" $g.registry) .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{- define "nnrosetta.pullPolicy" -}}
{{- .image.pullPolicy | default .root.Values.image.pullPolicy }}
{{- end }}

{{- define "nnrosetta.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- include "nnrosetta.componentName" . }}
{{- else }}
{{- .root.Values.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/* Converters ---------------------------------------------------------------------------- */}}

{{/* One converter's settings: converterDefaults merged with converters.<name>, as YAML.
     args: dict "root" $ "name" NAME "conf" (the entry). Booleans the merge cannot turn off
     (mergo treats false as empty) are read from the entry directly. */}}
{{- define "nnrosetta.converterConfig" -}}
{{- $conf := .conf | default dict }}
{{- $c := mustMergeOverwrite (deepCopy .root.Values.converterDefaults) (deepCopy $conf) }}
{{- if not $c.image.repository }}
{{- $_ := set $c.image "repository" (printf "nnrosetta/%s" .name) }}
{{- end }}
{{- range $k := list "pdb" "autoscaling" }}
{{- $entry := get $conf $k | default dict }}
{{- if hasKey $entry "enabled" }}
{{- $_ := set (get $c $k) "enabled" (get $entry "enabled") }}
{{- end }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/* The enabled converters' names, sorted, one per line (an entry without `enabled` is on;
     use: include "nnrosetta.enabledConverters" . | splitList "\n" | compact). */}}
{{- define "nnrosetta.enabledConverters" -}}
{{- range $name, $conf := .Values.converters }}
{{- if kindIs "map" $conf }}
{{- if or (not (hasKey $conf "enabled")) $conf.enabled }}
{{ $name }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* NNROSETTA_CONVERTERS: every enabled converter's headless Service, fully qualified. */}}
{{- define "nnrosetta.converterAddresses" -}}
{{- $root := . }}
{{- $addrs := list }}
{{- range $name := splitList "\n" (include "nnrosetta.enabledConverters" .) | compact }}
{{- $c := include "nnrosetta.converterConfig" (dict "root" $root "name" $name "conf" (get $root.Values.converters $name)) | fromYaml }}
{{- $svc := include "nnrosetta.componentName" (dict "root" $root "component" $name) }}
{{- $addrs = append $addrs (printf "%s.%s.svc.%s:%v" $svc $root.Release.Namespace $root.Values.clusterDomain $c.port) }}
{{- end }}
{{- join "," $addrs }}
{{- end }}

{{/* Probes: native gRPC probes; args: dict "probes" (merged settings) "port" PORT */}}
{{- define "nnrosetta.grpcProbes" -}}
startupProbe:
  grpc:
    port: {{ .port }}
  {{- toYaml .probes.startup | nindent 2 }}
readinessProbe:
  grpc:
    port: {{ .port }}
  {{- toYaml .probes.readiness | nindent 2 }}
livenessProbe:
  grpc:
    port: {{ .port }}
  {{- toYaml .probes.liveness | nindent 2 }}
{{- end }}

{{/* Storage ------------------------------------------------------------------------------- */}}

{{- define "nnrosetta.storageName" -}}
{{- include "nnrosetta.componentName" (dict "root" . "component" "seaweedfs") }}
{{- end }}

{{/* The Secret the gateway reads S3 credentials from, and its keys (YAML). */}}
{{- define "nnrosetta.storageCredentials" -}}
{{- $s := .Values.storage }}
{{- if $s.bundled.enabled }}
secret: {{ $s.bundled.credentials.existingSecret | default (include "nnrosetta.storageName" .) }}
accessKeyIdKey: AWS_ACCESS_KEY_ID
secretAccessKeyKey: AWS_SECRET_ACCESS_KEY
{{- else if $s.external.enabled }}
secret: {{ $s.external.existingSecret }}
accessKeyIdKey: {{ $s.external.accessKeyIdKey }}
secretAccessKeyKey: {{ $s.external.secretAccessKeyKey }}
{{- end }}
{{- end }}

{{/* Pod pieces ---------------------------------------------------------------------------- */}}

{{- define "nnrosetta.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{- define "nnrosetta.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}

{{/* A checksum of an existing Secret's data (when the cluster can be read: upgrade/install;
     `helm template` cannot look up and gets a constant), so rotating it rolls the pods. */}}
{{- define "nnrosetta.secretChecksum" -}}
{{- $s := lookup "v1" "Secret" .root.Release.Namespace .name }}
{{- $s | default dict | dig "data" dict | toJson | sha256sum }}
{{- end }}

{{/* Fail early on inconsistent values. */}}
{{- define "nnrosetta.validate" -}}
{{- $v := .Values }}
{{- if and $v.storage.bundled.enabled $v.storage.external.enabled }}
{{- fail "storage: enable either storage.bundled or storage.external, not both" }}
{{- end }}
{{- if and $v.storage.external.enabled (not $v.storage.external.existingSecret) }}
{{- fail "storage.external.enabled needs storage.external.existingSecret (the S3 credentials)" }}
{{- end }}
{{- if and $v.tls.enabled (not $v.tls.gatewayClient.existingSecret) }}
{{- fail "tls.enabled needs tls.gatewayClient.existingSecret (the gateway's client certificate)" }}
{{- end }}
{{- if and $v.tls.gatewayServer.enabled (not $v.tls.gatewayServer.existingSecret) }}
{{- fail "tls.gatewayServer.enabled needs tls.gatewayServer.existingSecret" }}
{{- end }}
{{- if and $v.auth.enabled (not $v.auth.existingSecret) }}
{{- fail "auth.enabled needs auth.existingSecret (one accepted bearer token per line)" }}
{{- end }}
{{- $root := . }}
{{- $names := splitList "\n" (include "nnrosetta.enabledConverters" .) | compact }}
{{- if not $names }}
{{- fail "converters: enable at least one converter" }}
{{- end }}
{{- range $name := $names }}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) }}
{{- fail (printf "converters.%s: the name must be a DNS label (lower case, digits, '-')" $name) }}
{{- end }}
{{- $c := include "nnrosetta.converterConfig" (dict "root" $root "name" $name "conf" (get $root.Values.converters $name)) | fromYaml }}
{{- if and $v.tls.enabled (not (or $c.tls.existingSecret $v.tls.converters.existingSecret)) }}
{{- fail (printf "tls.enabled needs tls.converters.existingSecret or converters.%s.tls.existingSecret" $name) }}
{{- end }}
{{- if eq (int $c.port) (int $c.healthPort) }}
{{- fail (printf "converters.%s: port and healthPort must differ" $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Scaling ------------------------------------------------------------------------------- */}}

{{/* HorizontalPodAutoscaler; args: dict "ctx" (component ctx) "autoscaling" (settings) */}}
{{- define "nnrosetta.hpa" -}}
{{- $a := .autoscaling }}
{{- $name := include "nnrosetta.componentName" .ctx }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  namespace: {{ .ctx.root.Release.Namespace }}
  labels:
    {{- include "nnrosetta.labels" .ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- if $a.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- end }}
    {{- if $a.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $a.targetMemoryUtilizationPercentage }}
    {{- end }}
  {{- with (get $a "behavior") }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* PodDisruptionBudget; args: dict "ctx" (component ctx) "pdb" (settings) */}}
{{- define "nnrosetta.pdb" -}}
{{- $p := .pdb }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "nnrosetta.componentName" .ctx }}
  namespace: {{ .ctx.root.Release.Namespace }}
  labels:
    {{- include "nnrosetta.labels" .ctx | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" $p.minAvailable) }}
  minAvailable: {{ $p.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $p.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "nnrosetta.selectorLabels" .ctx | nindent 6 }}
{{- end }}
