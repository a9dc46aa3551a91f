"""Anthropic SDK calls, unchanged (sample suite of tests/it/pytest_plugin.rs)."""

import anthropic


def test_claude():
    client = anthropic.Anthropic(max_retries=0)
    message = client.messages.create(
        model="claude-3-5-haiku-latest",
        max_tokens=64,
        messages=[{"role": "user", "content": "Summarise the refund policy"}],
    )
    assert message.content[0].text
