# The two quickstart commands. Both set up what they need first.
VENV ?= .venv
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.hftc-installed

.PHONY: demo test system-deps clean

$(STAMP): pyproject.toml CMakeLists.txt
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

## demo: set up, lint the examples and build the main example
demo: $(STAMP)
	$(VENV)/bin/hftc lint examples/*.yaml
	$(VENV)/bin/hftc build examples/fx_market_maker.hftc.yaml
	@echo "output: hftc-out/fx_mm/"

## system-deps: Debian packages the native tests need (installed when root and missing)
system-deps:
	bash scripts/system-deps.sh

## test: set up everything and run the whole suite (tools from system-deps come first on PATH)
test: system-deps $(STAMP)
	PATH="$(CURDIR)/.tools/bin:$$PATH" $(VENV)/bin/pytest -q

clean:
	rm -rf build .build-cache hftc-out .tools
