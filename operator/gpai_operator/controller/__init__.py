"""The operator: watches, the state sync, reconciler, status, annotations, metrics."""
