"""OpenAI SDK calls written as any test suite writes them: nothing here knows about traceforge.
The sample suite of tests/it/pytest_plugin.rs, run against the mock LLM."""

import uuid

import openai
import pytest


def ask(prompt):
    client = openai.OpenAI(max_retries=0)
    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}]
    )
    return answer.choices[0].message.content


def test_refund():
    assert ask("What is the refund policy?")


def test_stream():
    client = openai.OpenAI(max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            stream=True,
            messages=[{"role": "user", "content": "Stream the opening hours"}],
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_swallows_errors():
    # A test that catches the SDK's errors still fails on a replay miss.
    try:
        ask("Is the store open on Sunday?")
    except openai.APIStatusError:
        pass


@pytest.mark.parametrize("topic", ["shipping", "gift cards/vouchers"])
def test_topics(topic):
    assert ask(f"Tell me about {topic}")


class TestSupport:
    def test_escalate(self):
        assert ask("Escalate ticket 42")


@pytest.mark.traceforge(cassette="shared/any-question", match=["method", "upstream", "path"])
def test_any_question():
    # A different question every run: matched without its body, it still replays.
    assert ask(f"Question {uuid.uuid4()}")


def test_no_llm_call():
    assert 1 + 1 == 2
