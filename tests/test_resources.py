"""Files shipped inside the package: sample CSVs and icons, found through importlib.resources."""

from __future__ import annotations

import struct

from bpstudio.data import load_table
from bpstudio.resources import ICON_SIZES, SAMPLE_FILES, icon_png, icon_svg, sample_data_dir


def test_every_sample_file_loads() -> None:
    folder = sample_data_dir()
    assert folder is not None and folder.is_dir()
    assert sorted(p.name for p in folder.glob("*.csv")) == sorted(SAMPLE_FILES)
    for name in SAMPLE_FILES:
        assert load_table(str(folder / name)).n_rows > 50


def test_icon_pngs_have_their_sizes() -> None:
    svg = icon_svg()
    assert svg is not None and b"<svg" in svg.read_bytes()
    for n in ICON_SIZES:
        data = icon_png(n).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
        assert (width, height) == (n, n)
