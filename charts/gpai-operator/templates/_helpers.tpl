{{/*
Chart name, overridable with nameOverride. Also the app.kubernetes.io/name label and, through the
ServiceMonitor's jobLabel, the Prometheus job name the alerts select.
*/}}
{{- define "gpai-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: <release>-<name>, or the release name alone when it already
contains the chart name (`helm install gpai-operator ...`).
*/}}
{{- define "gpai-operator.fullname" -}}
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

{{- define "gpai-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The recommended labels, on every object the chart creates. */}}
{{- define "gpai-operator.labels" -}}
helm.sh/chart: {{ include "gpai-operator.chart" . }}
{{ include "gpai-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gpai-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the operator's pods: stable for the life of a release. */}}
{{- define "gpai-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gpai-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gpai-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gpai-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator's identity as the API server names it in admission requests. */}}
{{- define "gpai-operator.serviceAccountUsername" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "gpai-operator.serviceAccountName" .) }}
{{- end }}

{{- define "gpai-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "gpai-operator.webhookServiceName" -}}
{{- include "gpai-operator.fullname" . }}
{{- end }}

{{/* Secret holding the webhook's serving certificate (tls.crt, tls.key, ca.crt). */}}
{{- define "gpai-operator.tlsSecretName" -}}
{{- printf "%s-webhook-tls" (include "gpai-operator.fullname" .) }}
{{- end }}

{{- define "gpai-operator.peeringName" -}}
{{- default (include "gpai-operator.fullname" .) .Values.peering.name }}
{{- end }}

{{/* The names the webhook's serving certificate must carry. */}}
{{- define "gpai-operator.webhookDNSNames" -}}
{{- $svc := include "gpai-operator.webhookServiceName" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) | toJson }}
{{- end }}

{{/* The Prometheus job name: the ServiceMonitor takes it from the Service's app.kubernetes.io/name label. */}}
{{- define "gpai-operator.metricsJob" -}}
{{- include "gpai-operator.name" . }}
{{- end }}

{{/* The workload kinds of SPEC section 3 (main resources), for the given operations. */}}
{{- define "gpai-operator.webhookRules" -}}
- apiGroups: ["apps"]
  apiVersions: ["v1"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  operations: {{ toJson .operations }}
  scope: Namespaced
- apiGroups: ["batch"]
  apiVersions: ["v1"]
  resources: ["jobs", "cronjobs"]
  operations: {{ toJson .operations }}
  scope: Namespaced
- apiGroups: [""]
  apiVersions: ["v1"]
  resources: ["pods"]
  operations: {{ toJson .operations }}
  scope: Namespaced
{{- if .root.Values.webhook.kserve }}
- apiGroups: ["serving.kserve.io"]
  apiVersions: ["*"]
  resources: ["inferenceservices"]
  operations: {{ toJson .operations }}
  scope: Namespaced
{{- end }}
{{- end }}

{{/* Which namespaces and objects both webhooks see. */}}
{{- define "gpai-operator.webhookSelectors" -}}
# kube-system and the operator's own namespace are never sent (the operator must always be able
# to start). kubernetes.io/metadata.name is set by the API server and cannot be changed.
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        {{- concat (list "kube-system" .Release.Namespace) .Values.webhook.excludeNamespaces | uniq | toYaml | nindent 8 }}
    {{- with .Values.webhook.namespaceSelectorExpressions }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- if .Values.webhook.onlyLabelledWorkloads }}
# Only objects that carry gpai.dev/model, on the new or the old object (the API server checks
# both, so removing the label is still seen). Policies with requireModelLabel cannot work so.
objectSelector:
  matchExpressions:
    - key: gpai.dev/model
      operator: Exists
{{- end }}
{{- end }}

{{/* The matchConditions both webhooks share. On DELETE the object is the old one. */}}
{{- define "gpai-operator.commonMatchConditions" -}}
# The operator's own annotation patches must never be denied (nor wait on itself).
- name: not-the-operator
  expression: >-
    request.userInfo.username != {{ include "gpai-operator.serviceAccountUsername" . | quote }}
# Objects controlled by another (a ReplicaSet's Pods, a CronJob's Jobs) are not gated: their
# owner was. This keeps node failures, restarts and scale-ups out of the webhook's path.
- name: not-controlled-by-another-object
  expression: >-
    !has((request.operation == "DELETE" ? oldObject : object).metadata.ownerReferences) ||
    !(request.operation == "DELETE" ? oldObject : object).metadata.ownerReferences.exists(r,
      has(r.controller) && r.controller == true)
{{- end }}

{{/* CEL, for an UPDATE of a main resource: did the pod template (the spec, for Pods and
InferenceServices) or the gpai.dev/model label change? */}}
{{- define "gpai-operator.templateOrModelLabelChanged" -}}
(request.kind.kind == "CronJob" ? object.spec.jobTemplate != oldObject.spec.jobTemplate :
 request.kind.kind in ["Pod", "InferenceService"] ? object.spec != oldObject.spec :
 object.spec.template != oldObject.spec.template) ||
(has(object.metadata.labels) && "gpai.dev/model" in object.metadata.labels ?
   object.metadata.labels["gpai.dev/model"] : "") !=
(has(oldObject.metadata.labels) && "gpai.dev/model" in oldObject.metadata.labels ?
   oldObject.metadata.labels["gpai.dev/model"] : "")
{{- end }}
