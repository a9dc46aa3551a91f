"""A test that records one call, then waits to be interrupted (the Ctrl-C check of
tests/it/pytest_plugin.rs); skipped unless SAMPLE_WAIT_FILE is set."""

import os
import pathlib
import time

import openai
import pytest


@pytest.mark.skipif(not os.environ.get("SAMPLE_WAIT_FILE"), reason="only for the Ctrl-C check")
def test_wait_for_interrupt():
    client = openai.OpenAI(max_retries=0)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Before the interrupt"}]
    )
    pathlib.Path(os.environ["SAMPLE_WAIT_FILE"]).write_text("waiting")
    time.sleep(120)
