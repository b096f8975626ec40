# Backprop Studio — set-up, run and test from a fresh clone.
#   make run    create .venv, install, open the app on a built-in dataset
#   make test   create .venv, install with the test extras, lint (ruff, import-linter contracts),
#               run the whole suite headless
#   make bundle one-folder PyInstaller build in dist/bpstudio/ (not part of make test)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Shared libraries PySide6 needs to import on a bare Debian/Ubuntu.
QT_LIBS := libGL.so.1:libgl1 libEGL.so.1:libegl1 libxkbcommon.so.0:libxkbcommon0 \
           libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 libglib-2.0.so.0:libglib2.0-0
# A real (xcb) window additionally needs these.
XCB_LIBS := libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4 \
            libxcb-keysyms.so.1:libxcb-keysyms1 libxkbcommon-x11.so.0:libxkbcommon-x11-0 \
            libxcb-image.so.0:libxcb-image0 libxcb-render-util.so.0:libxcb-render-util0 \
            libxcb-shape.so.0:libxcb-shape0 libxcb-randr.so.0:libxcb-randr0 \
            libxcb-xkb.so.1:libxcb-xkb1

# PyInstaller goes into .venv for the bundle only; it is not a dependency of bpstudio. --paths:
# its module finder can't follow setuptools' editable-install hook, so it reads the source tree.
BUNDLE_TOOLS := "pyinstaller>=6.0,<7" "pyinstaller-hooks-contrib>=2024.0"
# Test-only packages and Qt bindings pyqtgraph may probe for: never frozen into the bundle.
BUNDLE_EXCLUDE := torch onnxruntime pytest _pytest hypothesis pytestqt sklearn scipy matplotlib \
                  IPython tkinter PyQt5 PyQt6 PySide2 psutil ruff

# The test suite validates the launcher entry with desktop-file-validate (skipped without it).
TEST_TOOLS := bin/desktop-file-validate:desktop-file-utils

.PHONY: run test lint format bench screenshots bundle clean system-libs system-libs-gui test-tools

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

# Installs only the libraries that are missing, and only where apt-get is available.
system-libs:
	@QT_LIBS="$(QT_LIBS)" sh scripts/ensure_libs.sh

system-libs-gui:
	@QT_LIBS="$(QT_LIBS) $(XCB_LIBS)" sh scripts/ensure_libs.sh

test-tools:
	@QT_LIBS="$(TEST_TOOLS)" sh scripts/ensure_libs.sh

run: system-libs-gui $(VENV)/.installed
	$(BIN)/bpstudio

test: system-libs test-tools $(VENV)/.installed
	$(BIN)/ruff check bpstudio tests benchmarks scripts
	$(BIN)/ruff format --check bpstudio tests benchmarks scripts
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check bpstudio tests benchmarks scripts
	$(BIN)/ruff format --check bpstudio tests benchmarks scripts
	$(BIN)/lint-imports

format: $(VENV)/.installed
	$(BIN)/ruff check --fix bpstudio tests benchmarks scripts
	$(BIN)/ruff format bpstudio tests benchmarks scripts

bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/epoch.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/csv_load.py
	$(BIN)/python benchmarks/gui_latency.py

screenshots: $(VENV)/.installed
	@QT_LIBS="$(QT_LIBS) $(XCB_LIBS) bin/xvfb-run:xvfb bin/xauth:xauth" sh scripts/ensure_libs.sh
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/screenshots.py docs/screenshots

bundle: system-libs $(VENV)/.installed
	$(BIN)/python -m pip install --quiet $(BUNDLE_TOOLS)
	@start=$$(date +%s); \
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --onedir --name bpstudio \
		--distpath dist --workpath build/pyinstaller --specpath build/pyinstaller \
		--paths $(CURDIR) --collect-data bpstudio \
		$(foreach m,$(BUNDLE_EXCLUDE),--exclude-module $(m)) \
		scripts/bundle_entry.py && \
	echo "built dist/bpstudio/ in $$(( $$(date +%s) - start )) s, $$(du -sh dist/bpstudio | cut -f1)"
	sh scripts/bundle_smoke.sh dist/bpstudio/bpstudio

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
