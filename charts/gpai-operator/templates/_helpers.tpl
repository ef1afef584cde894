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

{{- define "gpai-operator.leaseName" -}}
{{- default (include "gpai-operator.fullname" .) .Values.leaderElection.leaseName }}
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

{{/* The workload kinds of SPEC section 3, one rule each, for the given operations: the main
resources, or with .subresource that subresource of the kinds that have it. The order is the
operator's (admission/configuration.py): controllers before what they make. */}}
{{- define "gpai-operator.webhookRules" -}}
{{- $sub := .subresource | default "" }}
{{- $kinds := list }}
{{- if .root.Values.webhook.kserve }}
{{- $kinds = append $kinds (list "serving.kserve.io" "*" "inferenceservices" true) }}
{{- end }}
{{- $kinds = append $kinds (list "apps" "v1" "deployments" true) }}
{{- $kinds = append $kinds (list "apps" "v1" "statefulsets" true) }}
{{- $kinds = append $kinds (list "apps" "v1" "daemonsets" false) }}
{{- $kinds = append $kinds (list "apps" "v1" "replicasets" true) }}
{{- $kinds = append $kinds (list "" "v1" "replicationcontrollers" true) }}
{{- $kinds = append $kinds (list "batch" "v1" "cronjobs" false) }}
{{- $kinds = append $kinds (list "batch" "v1" "jobs" false) }}
{{- $kinds = append $kinds (list "" "v1" "pods" false) }}
{{- range .root.Values.workloadKinds }}
{{- $kinds = append $kinds (list .group .version .resource true) }}
{{- end }}
{{- range $kinds }}
{{- if or (not $sub) (index . 3) }}
- apiGroups: [{{ index . 0 | quote }}]
  apiVersions: [{{ index . 1 | quote }}]
  resources: [{{ ternary (printf "%s/%s" (index . 2) $sub) (index . 2) (ne $sub "") | quote }}]
  operations: {{ toJson $.operations }}
  scope: Namespaced
{{- end }}
{{- end }}
{{- end }}

{{/* The trusted controller identities: the kube-system controllers' own service accounts and
kube-controller-manager's identity (admission/identities.py), plus webhook.trustedControllers. */}}
{{- define "gpai-operator.trustedControllers" -}}
{{- $builtin := list "system:serviceaccount:kube-system:replicaset-controller" "system:serviceaccount:kube-system:deployment-controller" "system:serviceaccount:kube-system:statefulset-controller" "system:serviceaccount:kube-system:daemon-set-controller" "system:serviceaccount:kube-system:job-controller" "system:serviceaccount:kube-system:cronjob-controller" "system:serviceaccount:kube-system:replication-controller" "system:kube-controller-manager" }}
{{- concat $builtin .Values.webhook.trustedControllers | uniq | sortAlpha | toJson }}
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

{{/* The matchCondition both webhooks share. On DELETE the object is the old one. */}}
{{- define "gpai-operator.commonMatchConditions" -}}
# A controlled object (a ReplicaSet's Pods, a CronJob's Jobs) made or changed by a trusted
# controller identity is not sent: its controller was judged. This keeps node failures, restarts and
# scale-ups out of the webhook's path. An ownerReference alone proves nothing: the same object from
# anyone else is sent and judged.
- name: not-a-trusted-controllers-object
  expression: >-
    !(request.userInfo.username in {{ include "gpai-operator.trustedControllers" . | replace "\",\"" "\", \"" }}) ||
    !has((request.operation == "DELETE" ? oldObject : object).metadata.ownerReferences) ||
    !(request.operation == "DELETE" ? oldObject : object).metadata.ownerReferences.exists(r,
      has(r.controller) && r.controller == true)
{{- end }}

{{/* CEL: is the value at .path (a list of field names from the object root) present on .root? */}}
{{- define "gpai-operator.celPresent" -}}
{{- $at := .root }}
{{- $parts := list }}
{{- range .path }}
{{- $at = printf "%s.%s" $at . }}
{{- $parts = append $parts (printf "has(%s)" $at) }}
{{- end }}
{{- join " && " $parts }}
{{- end }}

{{/* CEL: does the value at .path differ between oldObject and object, absent values included? */}}
{{- define "gpai-operator.celChanged" -}}
{{- $new := include "gpai-operator.celPresent" (dict "root" "object" "path" .) }}
{{- $old := include "gpai-operator.celPresent" (dict "root" "oldObject" "path" .) }}
{{- $field := join "." . }}
{{- printf "(%s) != (%s) || ((%s) && object.%s != oldObject.%s)" $new $old $new $field $field }}
{{- end }}

{{/* CEL, for an UPDATE of a main resource: did what runs change? The pod template (the spec, for
Pods and InferenceServices; a CronJob's job template's pod template; guarded where the schema does
not require it), the gpai.dev/model
label, or the controller reference (one added or pointing at another object; removing one, as
orphaning does, is not a change of what runs). Kept identical to admission/configuration.py. */}}
{{- define "gpai-operator.whatRunsChanged" -}}
{{- $guarded := list (list "apps" "ReplicaSet" (list "spec.template")) (list "" "ReplicationController" (list "spec.template")) (list "batch" "CronJob" (list "spec.jobTemplate.spec.template")) }}
{{- range .Values.workloadKinds }}
{{- $guarded = append $guarded (list .group .kind .podTemplatePaths) }}
{{- end }}
(request.kind.kind in ["Pod", "InferenceService"] ? object.spec != oldObject.spec :
{{- range $guarded }}
{{- $tests := list }}
{{- range index . 2 }}
{{- $tests = append $tests (printf "(%s)" (include "gpai-operator.celChanged" (splitList "." .))) }}
{{- end }}
 request.kind.group == {{ index . 0 | quote }} && request.kind.kind == {{ index . 1 | quote }} ? ({{ join " || " $tests }}) :
{{- end }}
 object.spec.template != oldObject.spec.template) ||
(has(object.metadata.labels) && "gpai.dev/model" in object.metadata.labels ?
   object.metadata.labels["gpai.dev/model"] : "") !=
(has(oldObject.metadata.labels) && "gpai.dev/model" in oldObject.metadata.labels ?
   oldObject.metadata.labels["gpai.dev/model"] : "") ||
(has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r,
   has(r.controller) && r.controller == true && !(has(oldObject.metadata.ownerReferences) &&
   oldObject.metadata.ownerReferences.exists(o, has(o.controller) && o.controller == true &&
   o.uid == r.uid))))
{{- end }}

{{/* The admission mode: admission.mode, or when empty `both` where the cluster serves
admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (Kubernetes 1.30+), else `webhook`. */}}
{{- define "gpai-operator.admissionMode" -}}
{{- if .Values.admission.mode }}
{{- .Values.admission.mode }}
{{- else if .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy" }}
{{- "both" }}
{{- else }}
{{- "webhook" }}
{{- end }}
{{- end }}

{{/* What the gate sees, webhook and native alike: CREATE and UPDATE of the workload kinds, and
kubectl debug's ephemeral containers. The scale and status subresources never reach the gate, and
neither does DELETE, so scaling down or removing a non-compliant model always works. */}}
{{- define "gpai-operator.gateRules" -}}
{{- include "gpai-operator.webhookRules" (dict "root" . "operations" (list "CREATE" "UPDATE")) }}
- apiGroups: [""]
  apiVersions: ["v1"]
  resources: ["pods/ephemeralcontainers"]
  operations: ["UPDATE"]
  scope: Namespaced
{{- end }}

{{/* The gate's own matchCondition, webhook and native alike. */}}
{{- define "gpai-operator.gateMatchCondition" -}}
# CREATE and ephemeral containers always; UPDATE only when what runs changes. Metadata-only
# updates, including hand-written gpai.dev/* annotations the operator corrects, are not judged.
- name: create-or-what-runs-changed
  expression: >-
    request.operation == "CREATE" ||
    (has(request.subResource) && request.subResource == "ephemeralcontainers") ||
    {{ include "gpai-operator.whatRunsChanged" . | nindent 4 | trim }}
{{- end }}

{{/* What the native policies match, as the webhook's gate does: the same kinds, operations and
namespaces (their matchConditions come from the same helpers). */}}
{{- define "gpai-operator.nativeConstraints" -}}
matchPolicy: Equivalent
{{ include "gpai-operator.webhookSelectors" . }}
resourceRules:
  {{- include "gpai-operator.gateRules" . | nindent 2 }}
{{- end }}

{{/* CEL for a native policy's message: the engine's header for the decision of .section (deny,
warn, audit) worded with .verb, the unmet ids, and where the details are. */}}
{{- define "gpai-operator.nativeMessage" -}}
{{- $unmet := printf "params.spec.%s.models[variables.model].unmet" .section -}}
request.kind.kind + " " + request.namespace + "/" +
(has(object.metadata.name) ? object.metadata.name : request.name) +
" {{ .verb }} by " +
variables.{{ .section }}.map(p, p == "" ? "the built-in default policy" : "policy " + p).join(", ") +
": " + (variables.model == "" ?
"it has no gpai.dev/model label, which leaves 1 obligation unmet: workload/model-declared. To fix: add the label gpai.dev/model: <GPAIModel name>" :
!variables.known ?
"GPAIModel " + request.namespace + "/" + variables.model + " does not exist, which leaves 1 obligation unmet: workload/model-exists. To fix: create it or fix the gpai.dev/model label" :
"it serves GPAIModel " + request.namespace + "/" + variables.model +
" version " + params.spec.models[variables.model] +
", which leaves " + string(size({{ $unmet }})) +
(size({{ $unmet }}) == 1 ? " obligation" : " obligations") +
" unmet: " + {{ $unmet }}.join(", ") +
". In full: kubectl describe gpai " + variables.model + " -n " + request.namespace)
{{- end }}

{{/* Where the operator writes policy reports: reports.format, or `off` when reports.enabled is false. */}}
{{- define "gpai-operator.reportsFormat" -}}
{{- if .Values.reports.enabled }}{{ .Values.reports.format }}{{ else }}off{{ end }}
{{- end }}

{{/* The policy report kinds of reports.format: [API group, namespaced plural, cluster plural]. */}}
{{- define "gpai-operator.reportResources" -}}
{{- if eq .Values.reports.format "wgpolicyk8s" -}}
["wgpolicyk8s.io", "policyreports", "clusterpolicyreports"]
{{- else -}}
["openreports.io", "reports", "clusterreports"]
{{- end }}
{{- end }}
