"""The gazetteer data files: coverage of Indonesia's regions, alias groups, no date words, package-data rules."""

from __future__ import annotations

import json
from importlib import resources

from schemas import EntityType
from workers.enrich.cues import cues
from workers.enrich.gazetteer import Entry, gazetteer
from workers.enrich.resources import load_json
from workers.enrich.tokens import Doc


def _lookup(surface: str) -> Entry | None:
    doc = Doc(surface)
    match = gazetteer().names.longest(doc.texts, doc.keys, 0)
    return match.entry if match is not None and match.end == doc.n else None


def test_data_files_are_flat_json_or_txt():
    # pyproject ships workers/data/*.json, *.txt, *.ndjson (Kibana objects) and the entity models
    # (*.crfsuite, ops/train_entities.py)
    data = resources.files("workers").joinpath("data")
    names = [p.name for p in data.iterdir() if not p.name.startswith(".")]
    assert names and all(n.endswith((".json", ".txt", ".ndjson", ".crfsuite")) for n in names)
    for name in names:
        if name.endswith(".ndjson"):
            text = data.joinpath(name).read_text(encoding="utf-8")
            [json.loads(line) for line in text.splitlines() if line.strip()]
        elif name.endswith(".json"):
            json.loads(data.joinpath(name).read_text(encoding="utf-8"))


def test_every_province_and_kota():
    provinces = load_json("gazetteer_indonesia.json")["provinces"]
    assert len(provinces) == 38
    assert sum(len(p["kota"]) for p in provinces) == 98  # 93 autonomous kota + 5 in Jakarta
    assert all(p["kabupaten"] for p in provinces)
    for province in provinces:
        assert _lookup(province["name"]) == Entry(province["name"], EntityType.LOCATION, "province")
        assert _lookup(f"Provinsi {province['name']}").name == province["name"]
        for kota in province["kota"]:
            assert _lookup(f"Kota {kota}").subtype == "city", kota
        for kab in province["kabupaten"]:
            assert _lookup(f"Kabupaten {kab}") == Entry(f"Kabupaten {kab}", EntityType.LOCATION, "regency"), (
                kab
            )
            assert _lookup(f"Kab. {kab}").name == f"Kabupaten {kab}"


def test_same_named_city_regency_and_province_stay_apart():
    assert _lookup("Bandung") == Entry("Bandung", EntityType.LOCATION, "city")
    assert _lookup("Kabupaten Bandung").name == "Kabupaten Bandung"
    assert _lookup("Jambi").subtype == "province"
    assert _lookup("Kota Jambi") == Entry("Kota Jambi", EntityType.LOCATION, "city")
    assert _lookup("Sleman").name == "Kabupaten Sleman"  # bare kabupaten names are aliases when unambiguous
    assert _lookup("Batu") is None and _lookup("Kota Batu").subtype == "city"  # "batu" is a word


def test_alias_groups():
    groups = {
        "Korea Utara": ["Korut", "Korea Utara", "DPRK", "Republik Rakyat Demokratik Korea", "North Korea"],
        "Korea Selatan": ["Korsel", "South Korea"],
        "Amerika Serikat": ["AS", "U.S.", "United States", "Amerika Serikat"],
        "Rusia": ["Russia"],
        "Tiongkok": ["China", "Cina"],
        "Inggris": ["Britain", "United Kingdom", "Inggris Raya"],
        "Moskow": ["Moscow"],
        "Kyiv": ["Kiev"],
        "Krimea": ["Crimea"],
        "Gaza": ["Jalur Gaza", "Gaza Strip"],
        "Kim Jong Un": ["Kim Jong-un", "Kim Jong Un"],
        "Volodymyr Zelenskyy": ["Zelensky", "Zelenskyy"],
        "Joko Widodo": ["Jokowi"],
        "Perserikatan Bangsa-Bangsa": ["PBB", "UN", "United Nations"],
        "Korean Central News Agency": ["KCNA"],
        "Komisi Pemberantasan Korupsi": ["KPK"],
        "Kepolisian Negara Republik Indonesia": ["Polri"],
    }
    for canonical, aliases in groups.items():
        for alias in aliases:
            entry = _lookup(alias)
            assert entry is not None and entry.name == canonical, (alias, entry)


def test_acronyms_match_only_in_capitals():
    assert _lookup("AS").name == "Amerika Serikat"
    assert _lookup("As") is None
    assert _lookup("Bin") is None and _lookup("BIN").name == "Badan Intelijen Negara"


def test_news_outlets_are_organisations():
    assert _lookup("Reuters") == Entry("Reuters", EntityType.ORGANIZATION, "media")
    assert _lookup("TRIBUNNEWS.COM").name == "Tribunnews"
    assert _lookup("Antara") is None  # "antara" means "between"; ANTARA and Antara News still match
    assert _lookup("ANTARA").name == "Antara"


def test_no_alias_is_a_month_or_day_name():
    dates = cues().dates

    def walk(node, depth):
        for key, child in node.items():
            if key == "":
                continue
            if depth == 0 and "" in child:
                assert key not in dates, key
            walk(child, depth + 1)

    walk(gazetteer().names.root, 0)
