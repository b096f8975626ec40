"""Regenerate the sample CSVs in bpstudio/resources/sample_data (seeded: identical every time).

    .venv/bin/python scripts/make_samples.py

fruit_messy.csv  classification, deliberately messy but valid: UTF-8 BOM, quoted text with commas,
                 missing values written several ways, a free-text column and an ID column (both
                 dropped on import), text features (one-hot) and text labels.
houses.csv       regression: price (in thousands) from area, rooms, age and district.
iris.csv         Fisher's iris (1936), copied from scikit-learn's bundled copy if it is installed.
Leaves out: anything downloaded.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1] / "bpstudio" / "resources" / "sample_data"


def fruit(path: Path, n: int = 180, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    kinds = {  # weight g, diameter cm, colours, sweetness 1-10
        "apple": (160, 7.5, ["red", "green", "yellow"], 6.5),
        "orange": (200, 8.0, ["orange"], 6.0),
        "lemon": (110, 6.0, ["yellow", "green"], 2.0),
    }
    origins = ["Spain", "Italy", "Chile", "New Zealand", "South Africa"]
    adjectives = ["firm", "soft", "very fresh", "shiny", "slightly bruised", "organic", "ripe",
                  "sticker: \"premium\"", "small", "large"]  # fmt: skip
    places = ["market", "orchard", "shop", "garden", "farm", "crate"]
    rows = []
    for i in range(n):
        label = list(kinds)[i % 3]
        w, d, colours, sweet = kinds[label]
        row = {
            "id": f"F{1000 + i}",
            "weight_g": f"{rng.normal(w, 18):.0f}",
            "diameter_cm": f"{rng.normal(d, 0.6):.2f}",
            "colour": str(rng.choice(colours)),
            "sweetness": f"{np.clip(rng.normal(sweet, 1.2), 1, 10):.1f}",
            "origin": str(rng.choice(origins)),
            "remark": (
                f"{rng.choice(adjectives)}, from the {rng.choice(places)} #{rng.integers(1, 40)}"
                if rng.random() < 0.9
                else ""
            ),
            "fruit": label,
        }
        if rng.random() < 0.06:  # missing values, written the ways people write them
            row[str(rng.choice(["weight_g", "sweetness", "colour"]))] = str(
                rng.choice(["", "NA", "?", "n/a"])
            )
        rows.append(row)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow(row)
            if i in (40, 41, 120):
                f.write("\r\n")  # stray blank lines


def houses(path: Path, n: int = 250, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    districts = {"centre": 1.5, "suburb": 1.0, "village": 0.7}
    with open(path, "w", newline="") as f:
        f.write("area_m2,rooms,age_years,district,price_k\n")
        for _ in range(n):
            area = rng.uniform(35, 220)
            rooms = int(np.clip(round(area / 30 + rng.normal(0, 0.7)), 1, 9))
            age = rng.integers(0, 90)
            district = str(rng.choice(list(districts)))
            price = districts[district] * (1.9 * area + 8 * rooms - 0.6 * age + 40)
            price *= np.exp(rng.normal(0, 0.08))
            f.write(f"{area:.1f},{rooms},{age},{district},{price:.1f}\n")


def iris(path: Path) -> bool:
    try:
        from sklearn.datasets import load_iris
    except ImportError:
        return False
    data = load_iris()
    names = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
    with open(path, "w", newline="") as f:
        f.write(",".join(names + ["species"]) + "\n")
        for x, y in zip(data.data, data.target, strict=True):
            f.write(",".join(f"{v:.1f}" for v in x) + f",{data.target_names[y]}\n")
    return True


if __name__ == "__main__":
    fruit(HERE / "fruit_messy.csv")
    houses(HERE / "houses.csv")
    print("iris.csv written" if iris(HERE / "iris.csv") else "scikit-learn missing: no iris.csv")
