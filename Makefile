# Every target sets up what it needs: a virtual environment in .venv and, for the
# integration tests and the demo, kube-apiserver, kube-controller-manager and etcd built from Go modules.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test unit lint crds demo bench control-plane clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

control-plane:
	@hack/control-plane.sh >/dev/null

## The whole suite: lint (ruff, import contracts, mypy), CRD drift, unit, CLI and integration tests
## against a real control plane.
test: venv lint
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" HELM="$$(hack/helm.sh)" PROMTOOL="$$(hack/promtool.sh)" \
		PROMETHEUS="$$(hack/promtool.sh prometheus)" GPAI_THIRD_PARTY_CRDS="$$(hack/third-party-crds.sh)" \
		$(BIN)/pytest $(PYTEST_ARGS)

## Unit and CLI tests only (no control plane).
unit: venv
	$(BIN)/pytest -m 'not integration' $(PYTEST_ARGS)

## ruff, the import contracts (pyproject.toml [tool.importlinter]) and mypy --strict ([tool.mypy]).
lint: venv
	$(BIN)/ruff check operator tests bench hack
	$(BIN)/ruff format --check operator tests bench hack
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

crds: venv
	$(BIN)/gpai crds --output crds
	hack/sync-chart.sh

demo: venv
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" $(BIN)/python hack/demo.py $(DEMO_ARGS)

bench: venv
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis .demo
