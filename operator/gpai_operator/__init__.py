"""gpai-operator: keeps general-purpose AI models from going live without their EU AI Act evidence."""

__version__ = "0.1.0"
