"""A segment by city as data: its trip through JSON, forged or oversized values, and the keys it needs."""

from __future__ import annotations

import pytest

from outreach.campaigns import MAX_CITIES, MAX_CITY, Segment, segment_condition
from storage.crypto import Crypto
from storage.models import utcnow


def test_cities_survive_the_trip_through_json_once_each_as_first_typed() -> None:
    segment = Segment.from_data({"cities": ["  Bakı ", "BAKI", "Sumqayıt", "baki"], "languages": ["ru"]})
    assert segment.cities == ("Bakı", "Sumqayıt")
    assert Segment.from_data(segment.as_data()) == segment
    assert segment.as_data()["cities"] == ["Bakı", "Sumqayıt"]


def test_forged_cities_are_dropped_and_at_most_the_limit_kept() -> None:
    forged = {"cities": ["---", "", 5, None, "B" * (MAX_CITY + 1), "Gəncə"]}
    assert Segment.from_data(forged).cities == ("Gəncə",)
    many = {"cities": [f"City {n}" for n in range(MAX_CITIES + 5)]}
    assert len(Segment.from_data(many).cities) == MAX_CITIES
    assert Segment.from_data({"cities": "Baku"}).cities == ()  # not a list


def test_a_list_field_given_as_a_bare_string_selects_nothing_rather_than_its_letters() -> None:
    forged = Segment.from_data({"sources": "flyer", "languages": "ru", "stages": "screening"})
    assert (forged.sources, forged.languages, forged.stages) == ((), (), ())
    kept = Segment.from_data({"sources": ["flyer", 7], "languages": ["ru", "xx"]})
    assert (kept.sources, kept.languages) == (("flyer",), ("ru",))


def test_a_segment_by_city_needs_the_keys_and_one_without_does_not(crypto: Crypto) -> None:
    with pytest.raises(ValueError, match="keys"):
        segment_condition(Segment(cities=("Baku",)), utcnow())
    segment_condition(Segment(languages=("ru",)), utcnow())
    segment_condition(Segment(cities=("Baku",)), utcnow(), crypto=crypto)
