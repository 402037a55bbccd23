# Two commands a user needs:  make demo  (build + serve the sample graph)  and  make test.
# Both create .venv and install the project into it on first use.
VENV  ?= .venv
PY    := $(VENV)/bin/python
KG    := $(VENV)/bin/kg
STORE ?= kg-store
PORT  ?= 8000
EXAMPLE := SELECT ?who ?whom WHERE { ?s kg:supports ?o . ?s rdfs:label ?who . ?o rdfs:label ?whom . FILTER(lang(?who) = "de" && lang(?whom) = "de") } ORDER BY ?who ?whom

.PHONY: install demo build test lint clean train

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# The optional flair extra, for its tests (make test only; make demo stays free of torch).
# The CPU build of torch first, or pip pulls the CUDA one.
$(VENV)/.installed-flair: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev,flair]"
	touch $@

build: install
	$(KG) build data/samples/ --store $(STORE)

demo: build
	@echo
	@echo "Example: who supports whom (kg query, over the union of all article graphs):"
	@echo '  kg query "$(EXAMPLE)" --store $(STORE)'
	@$(KG) query '$(EXAMPLE)' --store $(STORE)
	@echo
	@echo "Serving http://127.0.0.1:$(PORT)/sparql  (OpenAPI docs: /docs; Ctrl-C stops)"
	@echo "  curl -G http://127.0.0.1:$(PORT)/sparql --data-urlencode 'query=$(EXAMPLE)' -H 'Accept: text/csv'"
	$(KG) serve --store $(STORE) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check kg api tests bench
	$(VENV)/bin/mypy

test: install lint $(VENV)/.installed-flair
	KG_REQUIRE_FLAIR=1 $(VENV)/bin/pytest

# Retrain the shipped model from ../shared/corpora (13 minutes on 2 idle cores; kg train --help).
train: install
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[train]"
	$(KG) train --corpora $(or $(CORPORA),../shared/corpora)

clean:
	rm -rf $(STORE) .pytest_cache .mypy_cache .ruff_cache
