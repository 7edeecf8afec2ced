"""Short chats of our own for the objection-class tests (tests/test_nlp_objection_classes.py,
tests/test_nlp_vendor_classes.py): the lexicon and clause rules alone, the trained model off."""
import pytest

from nlp import engine
from nlp.analyze import analyze


@pytest.fixture(scope="module", autouse=True)
def lexicon_only():
    from nlp import model

    engine.warm_up()
    model.set_enabled(False)
    yield
    model.set_enabled(True)


def objections(*lines: str) -> set[str]:
    """Colon chat; lines starting with '>' are the rep's (小李), the others the customer's (孙总)."""
    text = "\n".join(f"小李：{line[1:]}" if line.startswith(">") else f"孙总：{line}" for line in lines)
    return {o.id for o in analyze(text, rep_names=["小李"]).objections}
