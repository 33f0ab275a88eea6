"""Entities: the seeds (raw, boilerplate included), Indonesian and English fixtures, context rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import Entity, EntityType
from workers.enrich import extract_entities
from workers.enrich.gazetteer import gazetteer
from workers.enrich.tokens import Doc
from workers.settings import PROJECT_ROOT

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
FIXTURES = Path(__file__).parent / "fixtures" / "enrich"
MONTHS_AND_DAYS = {
    "april",
    "mei",
    "juni",
    "agustus",
    "maret",
    "senin",
    "sabtu",
    "minggu",
    "january",
    "monday",
}


def _seed(number: int) -> str:
    return SEEDS[number].read_text(encoding="utf-8")


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _find(entities: list[Entity], name: str, type_: EntityType | None = None) -> Entity:
    found = [e for e in entities if e.name == name and (type_ is None or e.type is type_)]
    assert found, f"{name} not in {[(e.name, e.type.value) for e in entities]}"
    return found[0]


def _names(entities: list[Entity]) -> set[str]:
    return {e.name for e in entities}


def _in_gazetteer(surface: str) -> bool:
    doc = Doc(surface)
    match = gazetteer().names.longest(doc.texts, doc.keys, 0)
    return match is not None and match.end == doc.n


@pytest.fixture(scope="module")
def seed_entities() -> list[list[Entity]]:
    return [extract_entities(path.read_text(encoding="utf-8")) for path in SEEDS]


def test_five_seeds_are_there():
    assert len(SEEDS) == 5


def test_seed_people_have_canonical_names(seed_entities):
    for entities in seed_entities:
        assert _find(entities, "Vladimir Putin").type is EntityType.PERSON
        assert _find(entities, "Kim Jong Un").type is EntityType.PERSON
    for number in (0, 1, 3):
        assert _find(seed_entities[number], "Valery Gerasimov").type is EntityType.PERSON
    assert "Gerasimov" in _find(seed_entities[0], "Valery Gerasimov").aliases
    assert "Putin" in _find(seed_entities[4], "Vladimir Putin").aliases


def test_kim_jong_un_spellings_are_one_person(seed_entities):
    # seeds 001 and 003 write "Kim Jong-un", 000 / 002 / 004 "Kim Jong Un"
    for number in (1, 3):
        assert "Kim Jong-un" in _find(seed_entities[number], "Kim Jong Un", EntityType.PERSON).aliases
    for number in (0, 2, 4):
        assert "Kim Jong Un" in _find(seed_entities[number], "Kim Jong Un", EntityType.PERSON).aliases
    text = "Kim Jong-un bertemu Putin. Kim Jong Un kemudian pulang ke Pyongyang."
    kims = [e for e in extract_entities(text) if e.type is EntityType.PERSON and e.name.startswith("Kim")]
    assert len(kims) == 1 and kims[0].mentions == 2


def test_north_korea_forms_are_one_location(seed_entities):
    aliases = {
        a for entities in seed_entities for a in _find(entities, "Korea Utara", EntityType.LOCATION).aliases
    }
    assert {"Korut", "DPRK", "Korea Utara", "Republik Rakyat Demokratik Korea"} <= aliases
    text = (
        "Korut menembakkan rudal. Korea Utara membantah. DPRK dan Republik Rakyat Demokratik Korea adalah nama "
        "resmi negara itu, yang dalam bahasa Inggris disebut North Korea."
    )
    places = [e for e in extract_entities(text) if e.type is EntityType.LOCATION]
    assert [(e.name, e.mentions, e.subtype) for e in places] == [("Korea Utara", 5, "country")]
    assert set(places[0].aliases) == {
        "Korut",
        "Korea Utara",
        "DPRK",
        "Republik Rakyat Demokratik Korea",
        "North Korea",
    }


def test_seed_places_and_organisations(seed_entities):
    for entities in seed_entities:
        for name in ("Kursk", "Rusia", "Ukraina"):
            assert _find(entities, name).type is EntityType.LOCATION
    # a city named once is the trained model's call (idner-style news leaves many place names untagged):
    # seed 004 names Moskow once in passing and the model leaves it out
    for number in (0, 1, 2, 3):
        assert _find(seed_entities[number], "Moskow").type is EntityType.LOCATION
    assert _find(seed_entities[0], "Kursk").subtype == "region"
    assert _find(seed_entities[0], "Moskow").subtype == "city"
    # (the misspelling "Ukrania" in seed 000 sits in "Perang Rusia-Ukrania", which the trained model takes
    # as one span: the rules' split into two places is lost there)
    for number in (0, 1, 2, 3, 4):
        assert _find(seed_entities[number], "Kremlin").type is EntityType.ORGANIZATION
    kcna = _find(seed_entities[3], "Korean Central News Agency", EntityType.ORGANIZATION)
    assert set(kcna.aliases) == {"Korean Central News Agency", "KCNA"}
    assert "KCNA" in _find(seed_entities[1], "Korean Central News Agency").aliases
    assert "Oblast Kursk" in _find(seed_entities[2], "Kursk").aliases
    # the four regions of seed 002, listed in one sentence; the trained model joins one of them to its
    # neighbour, so three of the four come out as themselves
    assert len({"Donetsk", "Kherson", "Luhansk", "Zaporizhzhia"} & _names(seed_entities[2])) >= 3


def test_moscow_and_moskow_are_one_location():
    entities = extract_entities("Delegasi tiba di Moskow. Officials in Moscow said the talks went well.")
    assert [(e.name, e.mentions, e.aliases) for e in entities] == [("Moskow", 2, ["Moskow", "Moscow"])]


@pytest.mark.parametrize("number", range(5))
def test_no_month_or_day_is_an_entity(seed_entities, number):
    # seed 000 carries "Grup Musik: APRIL", taken by the old tool from the date "26 April 2025"
    for entity in seed_entities[number]:
        assert entity.name.lower() not in MONTHS_AND_DAYS
        assert not {a.lower() for a in entity.aliases} & MONTHS_AND_DAYS


def test_no_april_from_dates_in_any_case():
    text = "Grup Musik: APRIL\nPada 26 April 2025, Sabtu, APRIL 2025 dan Mei lalu pasukan tiba. April Lalu bukan nama."
    assert not [e for e in extract_entities(text) if "april" in e.name.lower()]


def test_unknown_people_after_cues_in_seed_004(seed_entities):
    entities = seed_entities[4]
    assert (
        _find(entities, "Moon Seong Mook").type is EntityType.PERSON
    )  # "menurut Moon Seong Mook, seorang analis"
    assert (
        _find(entities, "Koo Byoungsam").type is EntityType.PERSON
    )  # "Juru bicara kementerian Koo Byoungsam"
    assert _find(entities, "Dmitry Peskov").type is EntityType.PERSON
    assert _find(entities, "Korea Research Institute for National Strategy").type is EntityType.ORGANIZATION
    assert _find(entities, "Kementerian Unifikasi Korea Selatan").type is EntityType.ORGANIZATION
    assert "Kim" in _find(entities, "Kim Jong Un").aliases  # "Putin dan Kim mengatakan ..." resolved


def test_language_names_are_not_places(seed_entities):
    # seed 004 ends "dalam bahasa Inggris, Korea, Jepang, Arab, Cina Sederhana, ..., Indonesia, Melayu, Jerman"
    names = _names(seed_entities[4])
    assert not names & {
        "Inggris",
        "Jepang",
        "Tiongkok",
        "Vietnam",
        "Thailand",
        "Jerman",
        "Prancis",
        "Spanyol",
    }


def test_positions_point_at_the_mentions(seed_entities):
    for path, entities in zip(SEEDS, seed_entities, strict=True):
        text = path.read_text(encoding="utf-8")
        for entity in entities:
            assert len(entity.positions) == entity.mentions
            for position in entity.positions:
                assert any(text.startswith(alias, position) for alias in entity.aliases)


def test_entities_are_sorted_by_mentions(seed_entities):
    for entities in seed_entities:
        counts = [e.mentions for e in entities]
        assert counts == sorted(counts, reverse=True)


def test_indonesian_regions_from_a_local_report():
    entities = extract_entities(_fixture("bandung_banjir.txt"))
    regency = _find(entities, "Kabupaten Bandung", EntityType.LOCATION)
    assert regency.subtype == "regency"
    assert {"Bandung", "Kabupaten Bandung"} <= set(regency.aliases)  # "Bupati Bandung" is the kabupaten
    city = _find(entities, "Bandung", EntityType.LOCATION)
    assert (
        city.subtype == "city" and "Kota Bandung" in city.aliases
    )  # "Wali Kota Bandung", "warga Kota Bandung"
    assert _find(entities, "Jawa Barat").subtype == "province"
    assert _find(entities, "Kecamatan Baleendah").subtype == "district"
    assert _find(entities, "Sungai Citarum").type is EntityType.LOCATION
    for person in ("Dedi Mulyadi", "Muhammad Farhan"):
        assert _find(entities, person).type is EntityType.PERSON
    assert "KOMPAS.com" not in {a for e in entities for a in e.aliases}  # the dateline outlet


def test_unknown_person_from_a_role_cue():
    assert not _in_gazetteer("Rahmat Wicaksono")
    entities = extract_entities(_fixture("kemenkeu_pajak.txt"))
    minister = _find(entities, "Rahmat Wicaksono", EntityType.PERSON)
    assert minister.aliases == ["Rahmat Wicaksono", "Rahmat"]  # "kata Rahmat", "Rahmat menambahkan"
    assert minister.mentions == 3
    assert _find(entities, "Fadlul Imansyah").type is EntityType.PERSON  # "Kepala BPKH Fadlul Imansyah"
    assert (
        _find(entities, "Teuku Riefky").type is EntityType.PERSON
    )  # "Ekonom Universitas Indonesia Teuku Riefky"
    assert _find(entities, "Kementerian Keuangan").type is EntityType.ORGANIZATION


def test_role_phrase_before_a_name_is_not_the_name():
    entities = extract_entities(_fixture("pengumuman_jadwal.txt"))
    people = [e.name for e in entities if e.type is EntityType.PERSON]
    assert people == [
        "Budi Rahardjo"
    ]  # not "Informasi Publik" from "Kepala Biro Komunikasi dan Informasi Publik"


def test_acronym_definition_gives_the_long_name():
    assert not _in_gazetteer("BPKH") and not _in_gazetteer("Badan Pengelola Keuangan Haji")
    entities = extract_entities(_fixture("kemenkeu_pajak.txt"))
    bpkh = _find(entities, "Badan Pengelola Keuangan Haji", EntityType.ORGANIZATION)
    assert bpkh.aliases == ["Badan Pengelola Keuangan Haji", "BPKH"]
    assert bpkh.mentions == 4  # the definition, its acronym, and two later uses of BPKH
    its = _find(extract_entities(_fixture("prestasi_robotik.txt")), "Institut Teknologi Sepuluh Nopember")
    assert "ITS" in its.aliases  # a month name inside an organisation's name is fine


def test_known_acronym_attaches_to_the_gazetteer_name():
    entities = extract_entities(
        "Komisi Pemberantasan Korupsi (KPK) memeriksa saksi. KPK juga menyita dokumen."
    )
    kpk = _find(entities, "Komisi Pemberantasan Korupsi", EntityType.ORGANIZATION)
    assert kpk.mentions == 3 and set(kpk.aliases) == {"Komisi Pemberantasan Korupsi", "KPK"}


def test_short_mention_resolves_to_the_full_name():
    text = (
        "Gubernur Bank Indonesia Perry Warjiyo mengatakan inflasi terkendali. "
        '"Kami akan terus menjaga stabilitas," kata Perry di Jakarta.'
    )
    perry = _find(extract_entities(text), "Perry Warjiyo", EntityType.PERSON)
    assert perry.mentions == 2 and perry.aliases == ["Perry Warjiyo", "Perry"]
    unknown = extract_entities(
        "Menteri Pertanian Andi Sulaiman Pratama meninjau sawah. Menurut Pratama, panen naik."
    )
    assert _find(unknown, "Andi Sulaiman Pratama").mentions == 2


def test_english_report():
    entities = extract_entities(_fixture("english_summit.txt"))
    people = {e.name for e in entities if e.type is EntityType.PERSON}
    expected = {
        "Donald Trump",
        "Volodymyr Zelenskyy",
        "Marco Rubio",
        "Dmitry Peskov",
        "Mark Rutte",
        "Jane Whitfield",
    }
    assert expected <= people
    assert "Zelensky" in _find(entities, "Volodymyr Zelenskyy").aliases
    assert _find(entities, "Jane Whitfield").mentions == 2  # "according to Whitfield's latest report"
    assert _find(entities, "Gedung Putih").aliases == ["White House"]
    assert _find(entities, "International Institute for Strategic Studies").type is EntityType.ORGANIZATION
    assert _find(entities, "Moskow").aliases == ["Moscow"]
    assert _find(entities, "Jenewa").aliases == ["Geneva"]
    assert _find(entities, "Washington").type is EntityType.LOCATION  # the place in "WASHINGTON (Reuters) -"
    assert "Reuters" not in _names(entities)  # the outlet in the dateline is not an entity
    assert "Strategic Studies" not in people


def test_outlet_datelines_are_not_entities():
    entities = extract_entities("PIKIRAN RAKYAT - Korea Utara mengaku mengirim tentara ke Rusia.")
    assert _names(entities) == {"Korea Utara", "Rusia"}
    entities = extract_entities("JAKARTA, KOMPAS.com - Presiden Prabowo Subianto tiba di Bali.")
    # the dateline's place is the model's call (it leaves this one out); the outlet is never an entity
    assert {"Prabowo Subianto", "Bali"} <= _names(entities) <= {"DKI Jakarta", "Prabowo Subianto", "Bali"}
    entities = extract_entities("(SeaPRwire) – Presiden Rusia berterima kasih kepada Korea Utara.")
    assert {"Korea Utara"} <= _names(entities) <= {"Rusia", "Korea Utara"}


def test_initials_are_not_amerika_serikat():
    entities = extract_entities("Polisi menangkap tersangka berinisial AS (32) di Bekasi.")
    assert "Amerika Serikat" not in _names(entities)
    # a bare "AS" that is the country is left to the trained model, which does not take it from this
    # one sentence; the rules still link it when the model tags it (test_north_korea_forms_are_one_location)


def test_ordinary_words_at_sentence_start_are_not_places():
    text = "Lima orang tewas dalam kecelakaan itu. Tim SAR tiba dari Lima, Peru."
    lima = _find(extract_entities(text), "Lima", EntityType.LOCATION)
    assert lima.positions == [text.index("Lima, Peru")]


def test_regency_without_a_bare_alias_after_bupati():
    # "Demak" alone is not a place alias (too ambiguous as a word), but after "Bupati" it is the kabupaten
    entities = extract_entities("Bupati Demak Eisti'anah meninjau tanggul yang jebol.")
    assert _find(entities, "Kabupaten Demak").subtype == "regency"
    assert _find(entities, "Eisti'anah").type is EntityType.PERSON


def test_uncued_name_needs_to_recur():
    # a run opening a line is often boilerplate ("Google News"): once is not enough
    # (a name alone on a line, once, is now the trained model's call: it takes "Larasati Wibisono.")
    twice = extract_entities(
        "Rapat itu dihadiri warga. Larasati Wibisono datang pagi. Larasati Wibisono pulang."
    )
    assert _find(twice, "Larasati Wibisono").type is EntityType.PERSON


def test_uncued_name_inside_prose_counts_once():
    entities = extract_entities("Rapat itu dihadiri Larasati Wibisono dan warga desa.")
    assert _find(entities, "Larasati Wibisono").type is EntityType.PERSON


def test_excluded_names_are_left_out():
    entities = extract_entities(_seed(0), exclude=["Kremlin"])
    assert "Kremlin" not in _names(entities)
    assert "Kremlin" in _names(extract_entities(_seed(0)))


def test_empty_and_tiny_texts():
    assert extract_entities("") == []
    assert extract_entities("-") == []
    putin = Entity(name="Vladimir Putin", type=EntityType.PERSON, aliases=["Putin"], positions=[0])
    assert extract_entities("Putin") == [putin]


def test_newsroom_patterns():
    entities = extract_entities(_fixture("polda_otoparts.txt"))
    people = {e.name for e in entities if e.type is EntityType.PERSON}
    orgs = {e.name for e in entities if e.type is EntityType.ORGANIZATION}
    # the company name ends at "Tbk"; the director after it is a person
    assert "PT Sinar Roda Mandiri Tbk" in orgs and "Yohanes Kristianto" in people
    # after "Universitas" comes the university's name, then the rector's
    assert "Ova Emilia" in people and "Gadjah Mada Ova Emilia" not in people
    # "Kajari Lhoksukon Teuku Rahmatsyah": the place after the role is not part of the name
    assert _find(entities, "Teuku Rahmatsyah").mentions == 2
    # a sentence-initial "Artinya" (it means) is no first name
    assert not [p for p in people if p.startswith("Artinya")]
    assert "ANTARA" not in {a for e in entities for a in e.aliases}


def test_initials_stay_initials_later_in_the_text():
    text = "Polisi menahan pria berinisial AS (40). Setelah diperiksa, AS mengaku menjual motor curian itu."
    assert "Amerika Serikat" not in _names(extract_entities(text))


def test_english_place_cues():
    entities = extract_entities(
        "Water rose in the districts of Sirajganj and Bogura, and in Gaibandha on Monday."
    )
    assert {"Sirajganj", "Bogura", "Gaibandha"} <= _names(entities)
    assert all(e.type is EntityType.LOCATION for e in entities)
    assert "Indian" not in _names(extract_entities("Rain fell in the Indian state of Assam."))


def test_nationality_adjectives_are_not_people():
    entities = extract_entities(
        "The bank said Japanese buyers returned, while its first Southeast Asian branch opened."
    )
    assert not {"Japanese", "Southeast Asian"} & _names(entities)


def test_name_after_a_locative_is_a_place():
    entities = extract_entities("Konser digelar di Lapangan Rampal, Malang, pada Sabtu malam.")
    assert _find(entities, "Lapangan Rampal").type is EntityType.LOCATION


def test_head_word_keeps_a_known_name_inside_the_organisation():
    entities = extract_entities("Peneliti Universitas Airlangga menemukan varietas baru.")
    assert _find(entities, "Universitas Airlangga").type is EntityType.ORGANIZATION
    assert "Airlangga Hartarto" not in _names(entities)


def test_short_form_from_a_middle_name():
    entities = extract_entities(
        "Wakil Ketua Komisi II Ahmad Doli Kurnia hadir. Menurut Doli, rapat berjalan lancar."
    )
    assert "Doli" not in _names(entities)
    assert _find(entities, "Ahmad Doli Kurnia").mentions == 2


def test_role_phrase_stops_at_a_full_stop():
    entities = extract_entities("He spoke for the National Flood Council. Mudslides buried two villages.")
    assert "Mudslides" not in _names(entities)


def test_head_words_for_facilities_and_nested_places():
    entities = extract_entities(
        "Warga Kecamatan Sungai Pinang mengungsi ke Pasar Cikurubuk dekat Sungai Musi."
    )
    assert {"Kecamatan Sungai Pinang", "Pasar Cikurubuk", "Sungai Musi"} <= _names(entities)


def test_display_name_follows_the_article_language():
    # one entity (one canonical name) whatever the language; English articles display the English name
    english = extract_entities(
        "The United States and North Korea met in Singapore, officials said.", language="en"
    )
    us = _find(english, "Amerika Serikat", EntityType.LOCATION)
    assert us.display_name == "United States" and "United States" in us.aliases
    assert _find(english, "Korea Utara").display_name == "North Korea"
    indonesian = extract_entities(
        "Pejabat di Amerika Serikat mengatakan Korea Utara menembakkan rudal.", language="id"
    )
    assert _find(indonesian, "Amerika Serikat").display_name is None
    assert _find(indonesian, "Korea Utara").display_name is None
