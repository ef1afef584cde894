{{/* ConfigMap holding the CA of the API server's client certificate (key ca.crt). */}}
{{- define "gpai-operator.clientCAConfigMapName" -}}
{{- .Values.webhook.clientAuth.existingConfigMap | default (printf "%s-client-ca" (include "gpai-operator.fullname" .)) }}
{{- end }}

{{/* The DNS name the operator's serving certificate carries and the ServiceMonitor verifies. */}}
{{- define "gpai-operator.serviceDNSName" -}}
{{- printf "%s.%s.svc" (include "gpai-operator.webhookServiceName" .) .Release.Namespace }}
{{- end }}
