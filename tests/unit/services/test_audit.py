"""The hash-chained audit trail: any edit, deletion or reordering of a past entry is found,
and `first_broken_link` names the first entry that no longer fits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.audit import GENESIS, chain_hash, first_broken_link

Entry = tuple[str, str, dict[str, Any]]

# Shaped like the intermediate server's staff access log.
access_fields = st.fixed_dictionaries(
    {
        "at": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
        "staff_id": st.text(min_size=1, max_size=12),
        "department": st.sampled_from(["住民課", "課税課", "子育て支援課", "保険年金課", "生活福祉課"]),
        "address_number": st.text("0123456789", min_size=15, max_size=15),
        "procedure_code": st.sampled_from(["P001", "P014", "P120"]),
        "item_codes": st.lists(st.sampled_from(["I101", "I202", "I303"]), max_size=3),
        "provider_code": st.sampled_from(["132110", "132136", "132217"]),
        "outcome": st.sampled_from(["granted", "refused"]),
    }
)
chains = st.lists(access_fields, min_size=1, max_size=12)
long_chains = st.lists(access_fields, min_size=2, max_size=12)


def chained(all_fields: list[dict[str, Any]]) -> list[Entry]:
    """Entries as the log writes them: each hash covers its fields and the previous hash."""
    entries: list[Entry] = []
    previous = GENESIS
    for fields in all_fields:
        entry_hash = chain_hash(previous, fields)
        entries.append((previous, entry_hash, fields))
        previous = entry_hash
    return entries


def test_empty_log_verifies() -> None:
    assert first_broken_link([]) is None


@given(chains)
def test_intact_chain_verifies(all_fields: list[dict[str, Any]]) -> None:
    assert first_broken_link(chained(all_fields)) is None


@given(chains, st.data())
def test_editing_a_field_of_an_entry_breaks_the_chain_at_that_entry(
    all_fields: list[dict[str, Any]], data: st.DataObject
) -> None:
    entries = chained(all_fields)
    index = data.draw(st.integers(0, len(entries) - 1), label="edited entry")
    previous_hash, entry_hash, fields = entries[index]
    flipped = "refused" if fields["outcome"] == "granted" else "granted"
    entries[index] = (previous_hash, entry_hash, {**fields, "outcome": flipped})
    assert first_broken_link(entries) == index


@given(long_chains, st.data())
def test_rehashing_an_edited_entry_moves_the_break_to_the_next_entry(
    all_fields: list[dict[str, Any]], data: st.DataObject
) -> None:
    entries = chained(all_fields)
    index = data.draw(st.integers(0, len(entries) - 2), label="edited entry")
    previous_hash, _, fields = entries[index]
    edited = {**fields, "staff_id": fields["staff_id"] + "x"}
    entries[index] = (previous_hash, chain_hash(previous_hash, edited), edited)
    assert first_broken_link(entries) == index + 1


@given(long_chains, st.data())
def test_deleting_an_entry_breaks_the_chain_where_it_was(all_fields: list[dict[str, Any]], data: st.DataObject) -> None:
    # Only an entry with a successor: cutting off the newest entries leaves a shorter valid chain.
    entries = chained(all_fields)
    index = data.draw(st.integers(0, len(entries) - 2), label="deleted entry")
    del entries[index]
    assert first_broken_link(entries) == index


@given(long_chains, st.data())
def test_swapping_two_entries_breaks_the_chain_at_the_earlier_one(
    all_fields: list[dict[str, Any]], data: st.DataObject
) -> None:
    entries = chained(all_fields)
    first = data.draw(st.integers(0, len(entries) - 2), label="earlier entry")
    second = data.draw(st.integers(first + 1, len(entries) - 1), label="later entry")
    entries[first], entries[second] = entries[second], entries[first]
    assert first_broken_link(entries) == first


@given(chains, st.data())
def test_rewriting_the_whole_chain_from_an_edit_onwards_goes_unnoticed(
    all_fields: list[dict[str, Any]], data: st.DataObject
) -> None:
    # Why the head hash must be kept elsewhere: the chain alone only proves internal consistency.
    entries = chained(all_fields)
    index = data.draw(st.integers(0, len(entries) - 1), label="edited entry")
    rewritten = [dict(fields) for _, _, fields in entries]
    rewritten[index]["staff_id"] += "x"
    forged = chained(rewritten)
    assert first_broken_link(forged) is None
    assert forged[-1][1] != entries[-1][1]
