"""Every GraphQL document unroot sends is valid against GitHub's published schema (the fake's subset of it)."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from bot.github import META_QUERY, blobs_query, resolve_mutation
from bot.limits import BLOBS_PER_QUERY
from tests.fakegithub.graphql_engine import github_schema

DOCUMENTS = {
    "meta query": META_QUERY,
    "one blob": blobs_query(1),
    f"{BLOBS_PER_QUERY} blobs": blobs_query(BLOBS_PER_QUERY),
    "resolve one thread": resolve_mutation(1),
    "resolve 30 threads": resolve_mutation(30),
}


@pytest.mark.parametrize("document", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_every_document_unroot_sends_validates_against_githubs_schema(document: str) -> None:
    assert validate(github_schema(), parse(document)) == []


def test_the_schema_refuses_what_github_would() -> None:
    # The check above can fail: a misspelt field, or an Int where GitHub wants an ID, is refused.
    misspelt = validate(github_schema(), parse(META_QUERY.replace("headRefOid", "headRefOd")))
    assert len(misspelt) == 1 and "Cannot query field 'headRefOd' on type 'PullRequest'" in misspelt[0].message
    wrong_type = validate(github_schema(), parse(resolve_mutation(1).replace("$t0: ID!", "$t0: Int!")))
    assert wrong_type and "Variable '$t0' of type 'Int!' used in position expecting type 'ID!'" in wrong_type[0].message
