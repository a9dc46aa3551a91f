
use builtin;
use str;

set edit:completion:arg-completer[traceforge] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'traceforge'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'traceforge'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand vcr 'Record, replay, import and inspect cassettes'
            cand mock-llm 'Run the built-in deterministic LLM server (OpenAI Chat, OpenAI Responses, Anthropic Messages; plain and streaming), the upstream the demo and the tests record against'
            cand demo 'Record a short session against the mock LLM, replay it offline, and show what happened'
            cand diff 'Show how the model''s behaviour changed between two recordings, and fail on it'
            cand review 'Walk the pending cassettes (from `vcr record --pending`): accept, reject or skip each'
            cand accept 'Accept pending cassettes: NAME.yaml.pending replaces NAME.yaml [default: all pending]'
            cand reject 'Reject pending cassettes: delete NAME.yaml.pending, keep NAME.yaml [default: all pending]'
            cand pending 'List the pending cassettes and how each differs from its original'
            cand traces 'Query the trace database: list, show, search, export'
            cand sessions 'Sessions (X-TraceForge-Session-ID) and their step trees'
            cand db 'Maintain the trace database: check, stats, backup, vacuum, prune'
            cand load 'Run k6-style load scenarios (YAML) against a URL or an in-process replay server'
            cand pii 'Find, protect and reveal PII and secrets in cassettes; list the redaction audit'
            cand policy 'Check, list and test policies (policy-as-code)'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;vcr'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand record 'Proxy to the real upstreams and record every interaction into cassettes'
            cand replay 'Answer every request from cassettes, offline; a request never recorded is a miss'
            cand import 'Convert cassettes from another tool into traceforge cassettes'
            cand list 'List cassettes with their interaction counts'
            cand show 'Print one cassette in a readable form'
            cand verify 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
            cand rebuild-from-cassettes 'Build a fresh trace database from every cassette and swap it in atomically'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;vcr;record'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --cassette 'Cassette for requests without an X-TraceForge-Cassette header'
            cand --listen 'Address to listen on; port 0 picks a free port'
            cand --ready-file 'Write the bound address (host:port) to this file once listening'
            cand --match 'Request fields compared when matching (comma-separated) [default: method,upstream,path,query,body]'
            cand --policies 'Directory holding the policies enforced at the proxy [default: .traceforge/policies]'
            cand --metrics-listen 'Also serve /_traceforge/livez, /_traceforge/readyz and /_traceforge/metrics on this address (port 0 picks a free port); it keeps answering while the server drains'
            cand --metrics-ready-file 'Write the --metrics-listen address (host:port) to this file once listening'
            cand --drain-timeout 'On SIGTERM or Ctrl-C, how long requests in flight (streams included) may take to finish; streams still open then are ended and recorded as incomplete'
            cand --otlp-endpoint 'Export one OpenTelemetry span per interaction to this OTLP/HTTP base URL (`/v1/traces` is appended), e.g. http://localhost:4318 [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else $OTEL_EXPORTER_OTLP_ENDPOINT, else `otlp.endpoint`; headers from $OTEL_EXPORTER_OTLP_HEADERS, service name from $OTEL_SERVICE_NAME]'
            cand --mode 'When to forward and record [default: new-episodes; required when CI is set]'
            cand --upstream 'Add or override an upstream: NAME=URL (repeatable), e.g. ollama=http://127.0.0.1:11434; https upstreams are verified against the bundled roots, or the PEM file SSL_CERT_FILE names'
            cand --upstream-timeout 'Give up on an upstream that sends nothing for this long (e.g. 30s, 500ms) [default: 600s]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand --no-traces 'Do not write traces to the trace database'
            cand --otlp-content 'Put prompts and answers into the spans (gen_ai.input.messages, gen_ai.output.messages), as stored: after the secret and PII rules'
            cand --allow-repeats 'Replay the last matching interaction again when a request repeats more often than recorded'
            cand --pending 'Leave existing cassettes untouched: write one whose behaviour changed beside it as NAME.yaml.pending for `traceforge review` (usually with --mode all)'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;vcr;replay'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --cassette 'Cassette for requests without an X-TraceForge-Cassette header'
            cand --listen 'Address to listen on; port 0 picks a free port'
            cand --ready-file 'Write the bound address (host:port) to this file once listening'
            cand --match 'Request fields compared when matching (comma-separated) [default: method,upstream,path,query,body]'
            cand --policies 'Directory holding the policies enforced at the proxy [default: .traceforge/policies]'
            cand --metrics-listen 'Also serve /_traceforge/livez, /_traceforge/readyz and /_traceforge/metrics on this address (port 0 picks a free port); it keeps answering while the server drains'
            cand --metrics-ready-file 'Write the --metrics-listen address (host:port) to this file once listening'
            cand --drain-timeout 'On SIGTERM or Ctrl-C, how long requests in flight (streams included) may take to finish; streams still open then are ended and recorded as incomplete'
            cand --otlp-endpoint 'Export one OpenTelemetry span per interaction to this OTLP/HTTP base URL (`/v1/traces` is appended), e.g. http://localhost:4318 [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else $OTEL_EXPORTER_OTLP_ENDPOINT, else `otlp.endpoint`; headers from $OTEL_EXPORTER_OTLP_HEADERS, service name from $OTEL_SERVICE_NAME]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand --no-traces 'Do not write traces to the trace database'
            cand --otlp-content 'Put prompts and answers into the spans (gen_ai.input.messages, gen_ai.output.messages), as stored: after the secret and PII rules'
            cand --allow-repeats 'Replay the last matching interaction again when a request repeats more often than recorded'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;vcr;import'= {
            cand --from 'Format of the files to import'
            cand --cassettes 'Directory to write cassettes into [default: cassettes]'
            cand --cassette 'Cassette name to use (only with a single FILE)'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand --force 'Overwrite cassettes that already exist'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;vcr;list'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;vcr;show'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;vcr;verify'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;vcr;rebuild-from-cassettes'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand --strict 'Fail on the first unreadable cassette instead of skipping it'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;vcr;help'= {
            cand record 'Proxy to the real upstreams and record every interaction into cassettes'
            cand replay 'Answer every request from cassettes, offline; a request never recorded is a miss'
            cand import 'Convert cassettes from another tool into traceforge cassettes'
            cand list 'List cassettes with their interaction counts'
            cand show 'Print one cassette in a readable form'
            cand verify 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
            cand rebuild-from-cassettes 'Build a fresh trace database from every cassette and swap it in atomically'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;vcr;help;record'= {
        }
        &'traceforge;vcr;help;replay'= {
        }
        &'traceforge;vcr;help;import'= {
        }
        &'traceforge;vcr;help;list'= {
        }
        &'traceforge;vcr;help;show'= {
        }
        &'traceforge;vcr;help;verify'= {
        }
        &'traceforge;vcr;help;rebuild-from-cassettes'= {
        }
        &'traceforge;vcr;help;help'= {
        }
        &'traceforge;mock-llm'= {
            cand --listen 'Address to listen on; port 0 picks a free port'
            cand --ready-file 'Write the bound address (host:port) to this file once listening'
            cand --first-event-delay 'Delay before the first streamed event (e.g. 200ms)'
            cand --event-delay 'Delay between streamed events (e.g. 20ms)'
            cand --metrics-listen 'Also serve /_traceforge/livez, /_traceforge/readyz and /_traceforge/metrics on this address (port 0 picks a free port); it keeps answering while the server drains'
            cand --metrics-ready-file 'Write the --metrics-listen address (host:port) to this file once listening'
            cand --drain-timeout 'On SIGTERM or Ctrl-C, how long requests in flight (streams included) may take to finish; streams still open then are ended and recorded as incomplete'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;demo'= {
            cand --keep 'Keep the demo''s cassettes in this directory instead of a temporary one'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;diff'= {
            cand --format 'Output format'
            cand --text 'How assistant text is compared: exact, whitespace or similarity>=N (0-1)'
            cand --tolerance 'Let a number move this much: NAME=SPEC, NAME one of input_tokens, output_tokens, latency; SPEC a percentage, an amount or both, e.g. output_tokens=10%|20, latency=25%|50ms (repeatable)'
            cand --ignore 'Also ignore this JSON path in request and response bodies, e.g. ''$.service_tier'' (repeatable)'
            cand --max-bytes 'Markdown: cut the report to at most this many bytes (GitHub comments hold 65,536)'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;review'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;accept'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;reject'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;pending'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;traces'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List traces, newest first'
            cand show 'Show one trace: by id, or CASSETTE#INTERACTION for the recorded one'
            cand search 'Full-text search over prompts and responses, best match first'
            cand export 'Write every trace as one JSON object per line'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;traces;list'= {
            cand --cassette 'Only cassettes matching this glob (e.g. ''checkout/*'')'
            cand --model 'Only this model'
            cand --org 'Only this organization (X-TraceForge-Organization-ID)'
            cand --service 'Only this service (X-TraceForge-Service-ID)'
            cand --since 'Only traces from the last DURATION (e.g. 7d, 12h)'
            cand --limit 'At most N traces'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;traces;show'= {
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;traces;search'= {
            cand --limit 'At most N results'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;traces;export'= {
            cand --format 'Output format'
            cand --otlp-endpoint 'Export one OpenTelemetry span per interaction to this OTLP/HTTP base URL (`/v1/traces` is appended), e.g. http://localhost:4318 [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else $OTEL_EXPORTER_OTLP_ENDPOINT, else `otlp.endpoint`; headers from $OTEL_EXPORTER_OTLP_HEADERS, service name from $OTEL_SERVICE_NAME]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand --otlp-content 'Put prompts and answers into the spans (gen_ai.input.messages, gen_ai.output.messages), as stored: after the secret and PII rules'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;traces;help'= {
            cand list 'List traces, newest first'
            cand show 'Show one trace: by id, or CASSETTE#INTERACTION for the recorded one'
            cand search 'Full-text search over prompts and responses, best match first'
            cand export 'Write every trace as one JSON object per line'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;traces;help;list'= {
        }
        &'traceforge;traces;help;show'= {
        }
        &'traceforge;traces;help;search'= {
        }
        &'traceforge;traces;help;export'= {
        }
        &'traceforge;traces;help;help'= {
        }
        &'traceforge;sessions'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List sessions, newest first'
            cand show 'Show a session''s steps as a tree (from X-TraceForge-Parent-Step-ID)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;sessions;list'= {
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;sessions;show'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;sessions;help'= {
            cand list 'List sessions, newest first'
            cand show 'Show a session''s steps as a tree (from X-TraceForge-Parent-Step-ID)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;sessions;help;list'= {
        }
        &'traceforge;sessions;help;show'= {
        }
        &'traceforge;sessions;help;help'= {
        }
        &'traceforge;db'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Integrity check and schema version (exit 1 on damage, with the fix)'
            cand stats 'Size, rows, time span and per-model counts'
            cand backup 'Copy the database with SQLite''s online backup (safe while the proxy writes)'
            cand vacuum 'Reclaim free space'
            cand prune 'Delete traces older than a duration'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;db;check'= {
            cand --cassettes 'Also compare the rows with the cassettes in this directory'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;db;stats'= {
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;db;backup'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;db;vacuum'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;db;prune'= {
            cand --older-than 'Delete traces seen longer ago than this (e.g. 90d)'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;db;help'= {
            cand check 'Integrity check and schema version (exit 1 on damage, with the fix)'
            cand stats 'Size, rows, time span and per-model counts'
            cand backup 'Copy the database with SQLite''s online backup (safe while the proxy writes)'
            cand vacuum 'Reclaim free space'
            cand prune 'Delete traces older than a duration'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;db;help;check'= {
        }
        &'traceforge;db;help;stats'= {
        }
        &'traceforge;db;help;backup'= {
        }
        &'traceforge;db;help;vacuum'= {
        }
        &'traceforge;db;help;prune'= {
        }
        &'traceforge;db;help;help'= {
        }
        &'traceforge;load'= {
            cand --target 'Base URL (http:// or https://) of the system under test, available to the scenario as ${TARGET}'
            cand --replay 'Serve the cassettes in DIR from an in-process replay server and load-test that; ${TARGET} is its /openai prefix, ${OPENAI_BASE_URL}, ${ANTHROPIC_BASE_URL} and ${TRACEFORGE_PROXY_URL} are set as for `vcr replay`'
            cand --latency 'With --replay: answer at once, or with the recorded time to first byte and event timing'
            cand -e 'Set a ${NAME} variable for the scenario (repeatable); overrides the environment'
            cand --env 'Set a ${NAME} variable for the scenario (repeatable); overrides the environment'
            cand --summary-export 'Write the end-of-test summary as JSON (k6''s handleSummary shape, with a version)'
            cand --baseline 'Compare this run with a baseline saved by --save-baseline; a regression fails the run'
            cand --save-baseline 'Save this run''s histograms, aggregates and environment as a baseline'
            cand --max-regression 'With --baseline: the largest tolerated change in the bad direction (e.g. 10%)'
            cand --out 'Write every metric sample as one JSON object per line (k6''s JSON output format)'
            cand --report 'Write a self-contained HTML report (charts over time, thresholds, baseline, history trend); it fetches nothing when opened'
            cand --format 'The end-of-test summary on stdout: the k6-like text, or GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and pull-request comments'
            cand --summary-markdown 'Also write the Markdown summary to FILE (e.g. "$GITHUB_STEP_SUMMARY"; appended to when the file exists, as GitHub expects)'
            cand --max-bytes 'Markdown: cut the summary to at most this many bytes (GitHub comments hold 65,536)'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand --no-history 'Do not record this run in the trace database''s load history'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand history 'The recorded runs per scenario: each metric''s trend as a table with sparklines'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;load;history'= {
            cand --last 'How many of the most recent runs to show'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;load;help'= {
            cand history 'The recorded runs per scenario: each metric''s trend as a table with sparklines'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;load;help;history'= {
        }
        &'traceforge;load;help;help'= {
        }
        &'traceforge;pii'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand keygen 'Print a new PII key (64 hex digits) for TRACEFORGE_PII_KEY or --pii-key-file'
            cand scan 'Report unprotected PII and secrets in cassettes, never their values; exit 1 if any'
            cand redact 'Rewrite cassettes with their PII and secrets protected in the configured mode'
            cand reveal 'Print a cassette with the originals of its pseudonyms restored (needs the key)'
            cand audit 'List the redaction audit: every value masked or pseudonymised, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;pii;keygen'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;pii;scan'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;pii;redact'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;pii;reveal'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;pii;audit'= {
            cand --cassette 'Only this cassette (a glob such as ''checkout/*'' works too)'
            cand --trace 'Only the values of this trace (an id from `traces list`)'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;pii;help'= {
            cand keygen 'Print a new PII key (64 hex digits) for TRACEFORGE_PII_KEY or --pii-key-file'
            cand scan 'Report unprotected PII and secrets in cassettes, never their values; exit 1 if any'
            cand redact 'Rewrite cassettes with their PII and secrets protected in the configured mode'
            cand reveal 'Print a cassette with the originals of its pseudonyms restored (needs the key)'
            cand audit 'List the redaction audit: every value masked or pseudonymised, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;pii;help;keygen'= {
        }
        &'traceforge;pii;help;scan'= {
        }
        &'traceforge;pii;help;redact'= {
        }
        &'traceforge;pii;help;reveal'= {
        }
        &'traceforge;pii;help;audit'= {
        }
        &'traceforge;pii;help;help'= {
        }
        &'traceforge;policy'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Evaluate every policy, enforced or not, against every recorded interaction'
            cand list 'Show the rules in force for a scope and the file each comes from'
            cand test 'Run the policy unit tests under POLICIES/tests/ (an input and the expected decisions each), like `opa test`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;policy;check'= {
            cand --cassettes 'Directory holding the cassettes [default: cassettes]'
            cand --policies 'Directory holding the policies [default: .traceforge/policies]'
            cand --format 'Output format'
            cand --fail-on 'Fail (exit 1) on findings of this severity or above'
            cand --max-bytes 'Markdown: cut the report to at most this many bytes (GitHub comments hold 65,536)'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand --allow-disabled 'Check even when TRACEFORGE_DISABLE_POLICY_ENFORCEMENT is set under CI'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;policy;list'= {
            cand --org 'The organization (as X-TraceForge-Organization-ID would say)'
            cand --service 'The service (as X-TraceForge-Service-ID would say)'
            cand --policies 'Directory holding the policies [default: .traceforge/policies]'
            cand --format 'Output format'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;policy;test'= {
            cand --policies 'Directory holding the policies [default: .traceforge/policies]'
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;policy;help'= {
            cand check 'Evaluate every policy, enforced or not, against every recorded interaction'
            cand list 'Show the rules in force for a scope and the file each comes from'
            cand test 'Run the policy unit tests under POLICIES/tests/ (an input and the expected decisions each), like `opa test`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;policy;help;check'= {
        }
        &'traceforge;policy;help;list'= {
        }
        &'traceforge;policy;help;test'= {
        }
        &'traceforge;policy;help;help'= {
        }
        &'traceforge;completions'= {
            cand --config 'Configuration file [default: traceforge.yaml in the current directory, if present]'
            cand --db 'Trace database [default: .traceforge/traces.db]'
            cand --pii-key-file 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]'
            cand --log-format 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)'
            cand --color 'When to use colour'
            cand -q 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand --quiet 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
            cand -v 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand --verbose 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'traceforge;help'= {
            cand vcr 'Record, replay, import and inspect cassettes'
            cand mock-llm 'Run the built-in deterministic LLM server (OpenAI Chat, OpenAI Responses, Anthropic Messages; plain and streaming), the upstream the demo and the tests record against'
            cand demo 'Record a short session against the mock LLM, replay it offline, and show what happened'
            cand diff 'Show how the model''s behaviour changed between two recordings, and fail on it'
            cand review 'Walk the pending cassettes (from `vcr record --pending`): accept, reject or skip each'
            cand accept 'Accept pending cassettes: NAME.yaml.pending replaces NAME.yaml [default: all pending]'
            cand reject 'Reject pending cassettes: delete NAME.yaml.pending, keep NAME.yaml [default: all pending]'
            cand pending 'List the pending cassettes and how each differs from its original'
            cand traces 'Query the trace database: list, show, search, export'
            cand sessions 'Sessions (X-TraceForge-Session-ID) and their step trees'
            cand db 'Maintain the trace database: check, stats, backup, vacuum, prune'
            cand load 'Run k6-style load scenarios (YAML) against a URL or an in-process replay server'
            cand pii 'Find, protect and reveal PII and secrets in cassettes; list the redaction audit'
            cand policy 'Check, list and test policies (policy-as-code)'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'traceforge;help;vcr'= {
            cand record 'Proxy to the real upstreams and record every interaction into cassettes'
            cand replay 'Answer every request from cassettes, offline; a request never recorded is a miss'
            cand import 'Convert cassettes from another tool into traceforge cassettes'
            cand list 'List cassettes with their interaction counts'
            cand show 'Print one cassette in a readable form'
            cand verify 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
            cand rebuild-from-cassettes 'Build a fresh trace database from every cassette and swap it in atomically'
        }
        &'traceforge;help;vcr;record'= {
        }
        &'traceforge;help;vcr;replay'= {
        }
        &'traceforge;help;vcr;import'= {
        }
        &'traceforge;help;vcr;list'= {
        }
        &'traceforge;help;vcr;show'= {
        }
        &'traceforge;help;vcr;verify'= {
        }
        &'traceforge;help;vcr;rebuild-from-cassettes'= {
        }
        &'traceforge;help;mock-llm'= {
        }
        &'traceforge;help;demo'= {
        }
        &'traceforge;help;diff'= {
        }
        &'traceforge;help;review'= {
        }
        &'traceforge;help;accept'= {
        }
        &'traceforge;help;reject'= {
        }
        &'traceforge;help;pending'= {
        }
        &'traceforge;help;traces'= {
            cand list 'List traces, newest first'
            cand show 'Show one trace: by id, or CASSETTE#INTERACTION for the recorded one'
            cand search 'Full-text search over prompts and responses, best match first'
            cand export 'Write every trace as one JSON object per line'
        }
        &'traceforge;help;traces;list'= {
        }
        &'traceforge;help;traces;show'= {
        }
        &'traceforge;help;traces;search'= {
        }
        &'traceforge;help;traces;export'= {
        }
        &'traceforge;help;sessions'= {
            cand list 'List sessions, newest first'
            cand show 'Show a session''s steps as a tree (from X-TraceForge-Parent-Step-ID)'
        }
        &'traceforge;help;sessions;list'= {
        }
        &'traceforge;help;sessions;show'= {
        }
        &'traceforge;help;db'= {
            cand check 'Integrity check and schema version (exit 1 on damage, with the fix)'
            cand stats 'Size, rows, time span and per-model counts'
            cand backup 'Copy the database with SQLite''s online backup (safe while the proxy writes)'
            cand vacuum 'Reclaim free space'
            cand prune 'Delete traces older than a duration'
        }
        &'traceforge;help;db;check'= {
        }
        &'traceforge;help;db;stats'= {
        }
        &'traceforge;help;db;backup'= {
        }
        &'traceforge;help;db;vacuum'= {
        }
        &'traceforge;help;db;prune'= {
        }
        &'traceforge;help;load'= {
            cand history 'The recorded runs per scenario: each metric''s trend as a table with sparklines'
        }
        &'traceforge;help;load;history'= {
        }
        &'traceforge;help;pii'= {
            cand keygen 'Print a new PII key (64 hex digits) for TRACEFORGE_PII_KEY or --pii-key-file'
            cand scan 'Report unprotected PII and secrets in cassettes, never their values; exit 1 if any'
            cand redact 'Rewrite cassettes with their PII and secrets protected in the configured mode'
            cand reveal 'Print a cassette with the originals of its pseudonyms restored (needs the key)'
            cand audit 'List the redaction audit: every value masked or pseudonymised, oldest first'
        }
        &'traceforge;help;pii;keygen'= {
        }
        &'traceforge;help;pii;scan'= {
        }
        &'traceforge;help;pii;redact'= {
        }
        &'traceforge;help;pii;reveal'= {
        }
        &'traceforge;help;pii;audit'= {
        }
        &'traceforge;help;policy'= {
            cand check 'Evaluate every policy, enforced or not, against every recorded interaction'
            cand list 'Show the rules in force for a scope and the file each comes from'
            cand test 'Run the policy unit tests under POLICIES/tests/ (an input and the expected decisions each), like `opa test`'
        }
        &'traceforge;help;policy;check'= {
        }
        &'traceforge;help;policy;list'= {
        }
        &'traceforge;help;policy;test'= {
        }
        &'traceforge;help;completions'= {
        }
        &'traceforge;help;help'= {
        }
    ]
    $completions[$command]
}
