"""The operator: kopf handlers (thin adapters), reconciler, status, annotations, metrics."""
