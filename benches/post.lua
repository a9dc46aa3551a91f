-- wrk script for the replay benchmark: every request is the recorded chat completion request.
-- The path comes from the URL given to wrk (/openai/v1/chat/completions for traceforge,
-- /v1/chat/completions for bare hyper and talkback). Keep the body identical to REQUEST in
-- benches/fixtures.py: traceforge and talkback only answer the request they recorded.
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
wrk.headers["Content-Type"] = "application/json"
