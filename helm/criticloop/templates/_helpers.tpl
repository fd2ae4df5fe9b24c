{{/*
Expand the name of the chart.
*/}}
{{- define "criticloop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name (63 characters at most: a DNS label).
If the release name contains the chart name it is used as the full name.
*/}}
{{- define "criticloop.fullname" -}}
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

{{/*
Chart name and version, for the chart label.
*/}}
{{- define "criticloop.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "criticloop.labels" -}}
helm.sh/chart: {{ include "criticloop.chart" . }}
{{ include "criticloop.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: criticloop
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "criticloop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "criticloop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Per-component names and labels. Called with a dict: {"root": $, "name": "<service>"}.
*/}}
{{- define "criticloop.componentName" -}}
{{- printf "%s-%s" (include "criticloop.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "criticloop.componentLabels" -}}
{{ include "criticloop.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "criticloop.componentSelectorLabels" -}}
{{ include "criticloop.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/*
The service account.
*/}}
{{- define "criticloop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "criticloop.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret holding the database URL, broker URL, API tokens and management URL: the chart's own, or
secrets.existingSecret.
*/}}
{{- define "criticloop.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "criticloop.fullname" . }}
{{- end }}
{{- end }}

{{- define "criticloop.configMapName" -}}
{{- include "criticloop.fullname" . }}
{{- end }}

{{/*
The image reference.
*/}}
{{- define "criticloop.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
The artifact store's claim.
*/}}
{{- define "criticloop.artifactsClaimName" -}}
{{- default (printf "%s-artifacts" (include "criticloop.fullname" .)) .Values.artifacts.persistence.existingClaim }}
{{- end }}

{{/*
Whether a service (dict {"root": $, "name": ..., "svc": ...}) runs with GPUs: "true" or "".
*/}}
{{- define "criticloop.usesGpu" -}}
{{- if and .root.Values.gpu.enabled (gt (int (default 0 .svc.gpu)) 0) }}true{{ end }}
{{- end }}

{{/*
Whether KEDA scales a service (dict {"root": $, "name": ..., "svc": ...}): "true" or "".
A service is scaled when keda.enabled, it has a queue, and its own keda.enabled is not false.
*/}}
{{- define "criticloop.kedaScaled" -}}
{{- $own := default dict .svc.keda }}
{{- if and .root.Values.keda.enabled .svc.queue (ne (toString (dig "enabled" true $own)) "false") }}true{{ end }}
{{- end }}

{{/*
The full queue name of a worker: <prefix>.<queue>.
*/}}
{{- define "criticloop.queueName" -}}
{{- printf "%s.%s" .root.Values.config.broker.prefix .svc.queue }}
{{- end }}
