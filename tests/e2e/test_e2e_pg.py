"""A representative set of end-to-end tests again, with the whole product on PostgreSQL.

The same scenario functions as the SQLite runs (imported as modules, so pytest does not collect
them twice) get the ``harness_pg`` fixture: the real bot, the local Bot API server and a private
PostgreSQL schema.  Skipped, saying so, where no PostgreSQL is reachable.
"""
from __future__ import annotations

import pytest

from tests import test_delivery as delivery
from tests.e2e import test_e2e_foundation as foundation
from tests.e2e import test_e2e_navigation as navigation


SCENARIOS = [
    foundation.test_invite_flow_and_strangers,
    foundation.test_huge_message_and_tampered_callbacks,
    navigation.test_rep_cannot_reach_another_reps_customer_by_any_command,
    delivery.test_fanout_of_500_briefs_with_10_percent_faults_delivers_each_once,
    delivery.test_a_duplicate_update_is_processed_once,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("test_"))
async def test_scenario_pg(harness_pg, scenario):
    await scenario(harness_pg)
