"""Tile words per mode: the verdict's reason and instruction for QA, RMA and reader runs (Qt-free)."""

from __future__ import annotations

from station.core.events import Outcome
from station.gui.model import words
from station.gui.model.verdicts import ACCEPT_UNKNOWN, SET_ASIDE_ENGINEER, shorten_ids, verdict_advice

RECORD = "5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"


def test_qa_mismatches_are_counted_and_the_unit_goes_to_the_line_engineer() -> None:
    message = f"3 mismatch(es) with production record {RECORD}: devid: recorded a, found b; ..."
    advice = verdict_advice("qa", Outcome.FAIL, "compare", message, {})
    assert advice.reason == "3 mismatches with its record"
    assert advice.instruction == SET_ASIDE_ENGINEER
    one = verdict_advice("qa", Outcome.FAIL, "compare", "1 mismatch(es) with production record x", {})
    assert one.reason == "1 mismatch with its record"


def test_qa_pass_says_which_record_the_unit_matches() -> None:
    advice = verdict_advice(
        "qa", Outcome.PASS, None, "", {"compare": f"the unit matches production record {RECORD}"}
    )
    assert advice.reason == "The unit matches production record 5f0c1d2e…"
    assert advice.instruction == words.REMOVE


def test_rma_pass_names_the_record_it_supersedes_or_the_acceptance() -> None:
    history = (
        f"2 record(s) of this unit; this run supersedes its production record {RECORD} (station s, seq 4)"
    )
    assert verdict_advice("rma", Outcome.PASS, None, "", {"history": history}).reason == (
        "Supersedes production record 5f0c1d2e…"
    )
    accepted = "no record of this unit (...) in this station's records; accepted as an unknown unit (RMA ...)"
    assert verdict_advice("rma", Outcome.PASS, None, "", {"history": accepted}).reason == (
        "Accepted as an unknown unit (recorded)"
    )


def test_an_unknown_rma_unit_says_who_may_accept_it() -> None:
    message = (
        "no record of this unit (devid x) in this station's records; nothing was written. If the unit is "
    )
    message += "ours, an RMA engineer may accept it: run it again with ..."
    advice = verdict_advice("rma", Outcome.FAIL, "history", message, {})
    assert advice.reason == "Unknown unit: no passing record of it on this line"
    assert advice.instruction == ACCEPT_UNKNOWN


def test_a_reader_pass_shows_its_inventory_number_and_production_fails_as_before() -> None:
    advice = verdict_advice(
        "readers", Outcome.PASS, None, "", {"inventory": "inventory number DEMO-056CAAC7"}
    )
    assert advice.reason == "Inventory DEMO-056CAAC7"
    failed = verdict_advice(
        "production", Outcome.FAIL, "verify", "GET /api/logger/key: reply is not JSON", {}
    )
    assert (failed.reason, failed.instruction) == (
        "Final check: the unit's answer was garbled",
        words.SET_ASIDE,
    )


def test_record_ids_are_shortened_on_tiles_only_when_they_are_uuids() -> None:
    assert (
        shorten_ids(f"record {RECORD} and devid 2023b758c209269a")
        == "record 5f0c1d2e… and devid 2023b758c209269a"
    )
