"""Every setting a user can give is documented where they look: the README's configuration table."""

from __future__ import annotations

import re

from workers.settings import PROJECT_ROOT, Settings


def test_every_setting_is_in_the_readme_configuration_table():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {line.split("|")[1] for line in table.splitlines() if line.startswith("| `KLIPING_")}
    names = set(re.findall(r"KLIPING_[A-Z_]+", " ".join(documented)))
    missing = {f"KLIPING_{name.upper()}" for name in Settings.model_fields} - names
    assert not missing, f"settings missing from README.md, Configuration: {sorted(missing)}"
