# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_traceforge_global_optspecs
    string join \n config= db= pii-key-file= q/quiet v/verbose log-format= color= h/help V/version
end

function __fish_traceforge_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_traceforge_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_traceforge_using_subcommand
    set -l cmd (__fish_traceforge_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c traceforge -n "__fish_traceforge_needs_command" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_needs_command" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_needs_command" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_needs_command" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_needs_command" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_needs_command" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_needs_command" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_needs_command" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "vcr" -d 'Record, replay, import and inspect cassettes'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "mock-llm" -d 'Run the built-in deterministic LLM server (OpenAI Chat, OpenAI Responses, Anthropic Messages; plain and streaming), the upstream the demo and the tests record against'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "demo" -d 'Record a short session against the mock LLM, replay it offline, and show what happened'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "diff" -d 'Show how the model\'s behaviour changed between two recordings, and fail on it'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "review" -d 'Walk the pending cassettes (from `vcr record --pending`): accept, reject or skip each'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "accept" -d 'Accept pending cassettes: NAME.yaml.pending replaces NAME.yaml [default: all pending]'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "reject" -d 'Reject pending cassettes: delete NAME.yaml.pending, keep NAME.yaml [default: all pending]'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "pending" -d 'List the pending cassettes and how each differs from its original'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "traces" -d 'Query the trace database: list, show, search, export'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "sessions" -d 'Sessions (X-TraceForge-Session-ID) and their step trees'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "db" -d 'Maintain the trace database: check, stats, backup, vacuum, prune'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "load" -d 'Run k6-style load scenarios (YAML) against a URL or an in-process replay server'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "pii" -d 'Find, protect and reveal PII and secrets in cassettes; list the redaction audit'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "policy" -d 'Check, list and test policies (policy-as-code)'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "record" -d 'Proxy to the real upstreams and record every interaction into cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "replay" -d 'Answer every request from cassettes, offline; a request never recorded is a miss'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "import" -d 'Convert cassettes from another tool into traceforge cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "list" -d 'List cassettes with their interaction counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "show" -d 'Print one cassette in a readable form'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "verify" -d 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "rebuild-from-cassettes" -d 'Build a fresh trace database from every cassette and swap it in atomically'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify rebuild-from-cassettes help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l cassette -d 'Cassette for requests without an X-TraceForge-Cassette header' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l listen -d 'Address to listen on; port 0 picks a free port' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l ready-file -d 'Write the bound address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l match -d 'Request fields compared when matching (comma-separated) [default: method,upstream,path,query,body]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l policies -d 'Directory holding the policies enforced at the proxy [default: .traceforge/policies]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l metrics-listen -d 'Also serve /_traceforge/livez, /_traceforge/readyz and /_traceforge/metrics on this address (port 0 picks a free port); it keeps answering while the server drains' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l metrics-ready-file -d 'Write the --metrics-listen address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l drain-timeout -d 'On SIGTERM or Ctrl-C, how long requests in flight (streams included) may take to finish; streams still open then are ended and recorded as incomplete' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l otlp-endpoint -d 'Export one OpenTelemetry span per interaction to this OTLP/HTTP base URL (`/v1/traces` is appended), e.g. http://localhost:4318 [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else $OTEL_EXPORTER_OTLP_ENDPOINT, else `otlp.endpoint`; headers from $OTEL_EXPORTER_OTLP_HEADERS, service name from $OTEL_SERVICE_NAME]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l mode -d 'When to forward and record [default: new-episodes; required when CI is set]' -r -f -a "once\t'Record when the cassette does not exist yet; otherwise replay it and refuse new requests'
new-episodes\t'Replay what matches, record everything else'
all\t'Always forward and rewrite the cassette with this run\'s interactions'
none\t'Replay only; never forward'"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l upstream -d 'Add or override an upstream: NAME=URL (repeatable), e.g. ollama=http://127.0.0.1:11434; https upstreams are verified against the bundled roots, or the PEM file SSL_CERT_FILE names' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l upstream-timeout -d 'Give up on an upstream that sends nothing for this long (e.g. 30s, 500ms) [default: 600s]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l no-traces -d 'Do not write traces to the trace database'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l otlp-content -d 'Put prompts and answers into the spans (gen_ai.input.messages, gen_ai.output.messages), as stored: after the secret and PII rules'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l allow-repeats -d 'Replay the last matching interaction again when a request repeats more often than recorded'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l pending -d 'Leave existing cassettes untouched: write one whose behaviour changed beside it as NAME.yaml.pending for `traceforge review` (usually with --mode all)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l cassette -d 'Cassette for requests without an X-TraceForge-Cassette header' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l listen -d 'Address to listen on; port 0 picks a free port' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l ready-file -d 'Write the bound address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l match -d 'Request fields compared when matching (comma-separated) [default: method,upstream,path,query,body]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l policies -d 'Directory holding the policies enforced at the proxy [default: .traceforge/policies]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l metrics-listen -d 'Also serve /_traceforge/livez, /_traceforge/readyz and /_traceforge/metrics on this address (port 0 picks a free port); it keeps answering while the server drains' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l metrics-ready-file -d 'Write the --metrics-listen address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l drain-timeout -d 'On SIGTERM or Ctrl-C, how long requests in flight (streams included) may take to finish; streams still open then are ended and recorded as incomplete' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l otlp-endpoint -d 'Export one OpenTelemetry span per interaction to this OTLP/HTTP base URL (`/v1/traces` is appended), e.g. http://localhost:4318 [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else $OTEL_EXPORTER_OTLP_ENDPOINT, else `otlp.endpoint`; headers from $OTEL_EXPORTER_OTLP_HEADERS, service name from $OTEL_SERVICE_NAME]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l no-traces -d 'Do not write traces to the trace database'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l otlp-content -d 'Put prompts and answers into the spans (gen_ai.input.messages, gen_ai.output.messages), as stored: after the secret and PII rules'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l allow-repeats -d 'Replay the last matching interaction again when a request repeats more often than recorded'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l from -d 'Format of the files to import' -r -f -a "vcrpy\t'vcrpy and pytest-recording YAML cassettes'"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l cassettes -d 'Directory to write cassettes into [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l cassette -d 'Cassette name to use (only with a single FILE)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l force -d 'Overwrite cassettes that already exist'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -l strict -d 'Fail on the first unreadable cassette instead of skipping it'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from rebuild-from-cassettes" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "record" -d 'Proxy to the real upstreams and record every interaction into cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "replay" -d 'Answer every request from cassettes, offline; a request never recorded is a miss'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "import" -d 'Convert cassettes from another tool into traceforge cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "list" -d 'List cassettes with their interaction counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print one cassette in a readable form'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "rebuild-from-cassettes" -d 'Build a fresh trace database from every cassette and swap it in atomically'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l listen -d 'Address to listen on; port 0 picks a free port' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l ready-file -d 'Write the bound address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l first-event-delay -d 'Delay before the first streamed event (e.g. 200ms)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l event-delay -d 'Delay between streamed events (e.g. 20ms)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l metrics-listen -d 'Also serve /_traceforge/livez, /_traceforge/readyz and /_traceforge/metrics on this address (port 0 picks a free port); it keeps answering while the server drains' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l metrics-ready-file -d 'Write the --metrics-listen address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l drain-timeout -d 'On SIGTERM or Ctrl-C, how long requests in flight (streams included) may take to finish; streams still open then are ended and recorded as incomplete' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l keep -d 'Keep the demo\'s cassettes in this directory instead of a temporary one' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l format -d 'Output format' -r -f -a "text\t'A summary table, then each change (coloured on a terminal)'
json\t'A versioned JSON document listing every interaction'
junit\t'JUnit XML: one test case per interaction'
markdown\t'GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and pull-request comments'"
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l text -d 'How assistant text is compared: exact, whitespace or similarity>=N (0-1)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l tolerance -d 'Let a number move this much: NAME=SPEC, NAME one of input_tokens, output_tokens, latency; SPEC a percentage, an amount or both, e.g. output_tokens=10%|20, latency=25%|50ms (repeatable)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l ignore -d 'Also ignore this JSON path in request and response bodies, e.g. \'$.service_tier\' (repeatable)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l max-bytes -d 'Markdown: cut the report to at most this many bytes (GitHub comments hold 65,536)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand diff" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand review" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand accept" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand reject" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand pending" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -f -a "list" -d 'List traces, newest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -f -a "show" -d 'Show one trace: by id, or CASSETTE#INTERACTION for the recorded one'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -f -a "search" -d 'Full-text search over prompts and responses, best match first'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -f -a "export" -d 'Write every trace as one JSON object per line'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and not __fish_seen_subcommand_from list show search export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l cassette -d 'Only cassettes matching this glob (e.g. \'checkout/*\')' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l model -d 'Only this model' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l org -d 'Only this organization (X-TraceForge-Organization-ID)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l service -d 'Only this service (X-TraceForge-Service-ID)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l since -d 'Only traces from the last DURATION (e.g. 7d, 12h)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l limit -d 'At most N traces' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -l limit -d 'At most N results' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from search" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l format -d 'Output format' -r -f -a "jsonl\t'One JSON object per line'
otlp\t'One OpenTelemetry span per trace, sent over OTLP/HTTP protobuf to the endpoint (--otlp-endpoint or the OTEL_EXPORTER_OTLP_* variables)'"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l otlp-endpoint -d 'Export one OpenTelemetry span per interaction to this OTLP/HTTP base URL (`/v1/traces` is appended), e.g. http://localhost:4318 [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else $OTEL_EXPORTER_OTLP_ENDPOINT, else `otlp.endpoint`; headers from $OTEL_EXPORTER_OTLP_HEADERS, service name from $OTEL_SERVICE_NAME]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -l otlp-content -d 'Put prompts and answers into the spans (gen_ai.input.messages, gen_ai.output.messages), as stored: after the secret and PII rules'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from help" -f -a "list" -d 'List traces, newest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one trace: by id, or CASSETTE#INTERACTION for the recorded one'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from help" -f -a "search" -d 'Full-text search over prompts and responses, best match first'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write every trace as one JSON object per line'
complete -c traceforge -n "__fish_traceforge_using_subcommand traces; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -f -a "list" -d 'List sessions, newest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -f -a "show" -d 'Show a session\'s steps as a tree (from X-TraceForge-Parent-Step-ID)'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and not __fish_seen_subcommand_from list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "list" -d 'List sessions, newest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a session\'s steps as a tree (from X-TraceForge-Parent-Step-ID)'
complete -c traceforge -n "__fish_traceforge_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -f -a "check" -d 'Integrity check and schema version (exit 1 on damage, with the fix)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -f -a "stats" -d 'Size, rows, time span and per-model counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -f -a "backup" -d 'Copy the database with SQLite\'s online backup (safe while the proxy writes)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -f -a "vacuum" -d 'Reclaim free space'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -f -a "prune" -d 'Delete traces older than a duration'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and not __fish_seen_subcommand_from check stats backup vacuum prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -l cassettes -d 'Also compare the rows with the cassettes in this directory' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from stats" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from backup" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from vacuum" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -l older-than -d 'Delete traces seen longer ago than this (e.g. 90d)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "check" -d 'Integrity check and schema version (exit 1 on damage, with the fix)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "stats" -d 'Size, rows, time span and per-model counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Copy the database with SQLite\'s online backup (safe while the proxy writes)'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "vacuum" -d 'Reclaim free space'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Delete traces older than a duration'
complete -c traceforge -n "__fish_traceforge_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l target -d 'Base URL (http:// or https://) of the system under test, available to the scenario as ${TARGET}' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l replay -d 'Serve the cassettes in DIR from an in-process replay server and load-test that; ${TARGET} is its /openai prefix, ${OPENAI_BASE_URL}, ${ANTHROPIC_BASE_URL} and ${TRACEFORGE_PROXY_URL} are set as for `vcr replay`' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l latency -d 'With --replay: answer at once, or with the recorded time to first byte and event timing' -r -f -a "none\t'Answer every request as fast as possible'
recorded\t'Wait the recorded time to first byte, then send each streamed event at its recorded offset'"
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -s e -l env -d 'Set a ${NAME} variable for the scenario (repeatable); overrides the environment' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l summary-export -d 'Write the end-of-test summary as JSON (k6\'s handleSummary shape, with a version)' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l baseline -d 'Compare this run with a baseline saved by --save-baseline; a regression fails the run' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l save-baseline -d 'Save this run\'s histograms, aggregates and environment as a baseline' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l max-regression -d 'With --baseline: the largest tolerated change in the bad direction (e.g. 10%)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l out -d 'Write every metric sample as one JSON object per line (k6\'s JSON output format)' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l report -d 'Write a self-contained HTML report (charts over time, thresholds, baseline, history trend); it fetches nothing when opened' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l format -d 'The end-of-test summary on stdout: the k6-like text, or GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and pull-request comments' -r -f -a "text\t'The k6-like summary tables'
markdown\t'GitHub-flavoured Markdown, cut to --max-bytes'"
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l summary-markdown -d 'Also write the Markdown summary to FILE (e.g. "$GITHUB_STEP_SUMMARY"; appended to when the file exists, as GitHub expects)' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l max-bytes -d 'Markdown: cut the summary to at most this many bytes (GitHub comments hold 65,536)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -l no-history -d 'Do not record this run in the trace database\'s load history'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -a "history" -d 'The recorded runs per scenario: each metric\'s trend as a table with sparklines'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and not __fish_seen_subcommand_from history help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -l last -d 'How many of the most recent runs to show' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from help" -f -a "history" -d 'The recorded runs per scenario: each metric\'s trend as a table with sparklines'
complete -c traceforge -n "__fish_traceforge_using_subcommand load; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -f -a "keygen" -d 'Print a new PII key (64 hex digits) for TRACEFORGE_PII_KEY or --pii-key-file'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -f -a "scan" -d 'Report unprotected PII and secrets in cassettes, never their values; exit 1 if any'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -f -a "redact" -d 'Rewrite cassettes with their PII and secrets protected in the configured mode'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -f -a "reveal" -d 'Print a cassette with the originals of its pseudonyms restored (needs the key)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -f -a "audit" -d 'List the redaction audit: every value masked or pseudonymised, oldest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and not __fish_seen_subcommand_from keygen scan redact reveal audit help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from keygen" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from scan" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from redact" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from reveal" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l cassette -d 'Only this cassette (a glob such as \'checkout/*\' works too)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l trace -d 'Only the values of this trace (an id from `traces list`)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from audit" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from help" -f -a "keygen" -d 'Print a new PII key (64 hex digits) for TRACEFORGE_PII_KEY or --pii-key-file'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from help" -f -a "scan" -d 'Report unprotected PII and secrets in cassettes, never their values; exit 1 if any'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from help" -f -a "redact" -d 'Rewrite cassettes with their PII and secrets protected in the configured mode'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from help" -f -a "reveal" -d 'Print a cassette with the originals of its pseudonyms restored (needs the key)'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from help" -f -a "audit" -d 'List the redaction audit: every value masked or pseudonymised, oldest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand pii; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -f -a "check" -d 'Evaluate every policy, enforced or not, against every recorded interaction'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -f -a "list" -d 'Show the rules in force for a scope and the file each comes from'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -f -a "test" -d 'Run the policy unit tests under POLICIES/tests/ (an input and the expected decisions each), like `opa test`'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and not __fish_seen_subcommand_from check list test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l policies -d 'Directory holding the policies [default: .traceforge/policies]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l format -d 'Output format' -r -f -a "text\t'One line per finding'
json\t'A versioned JSON document'
junit\t'JUnit XML: one test case per interaction with findings'
markdown\t'GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and pull-request comments'"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l fail-on -d 'Fail (exit 1) on findings of this severity or above' -r -f -a "low\t''
medium\t''
high\t''
critical\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l max-bytes -d 'Markdown: cut the report to at most this many bytes (GitHub comments hold 65,536)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -l allow-disabled -d 'Check even when TRACEFORGE_DISABLE_POLICY_ENFORCEMENT is set under CI'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l org -d 'The organization (as X-TraceForge-Organization-ID would say)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l service -d 'The service (as X-TraceForge-Service-ID would say)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l policies -d 'Directory holding the policies [default: .traceforge/policies]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -l policies -d 'Directory holding the policies [default: .traceforge/policies]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "check" -d 'Evaluate every policy, enforced or not, against every recorded interaction'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show the rules in force for a scope and the file each comes from'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "test" -d 'Run the policy unit tests under POLICIES/tests/ (an input and the expected decisions each), like `opa test`'
complete -c traceforge -n "__fish_traceforge_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -l db -d 'Trace database [default: .traceforge/traces.db]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -l pii-key-file -d 'File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -l log-format -d 'How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or json (one object per line; the default level becomes info, one event per request)' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -s q -l quiet -d 'Print only errors and warnings (no status lines; no per-request log events unless TRACEFORGE_LOG says so)'
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -s v -l verbose -d 'Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet'
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "vcr" -d 'Record, replay, import and inspect cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "mock-llm" -d 'Run the built-in deterministic LLM server (OpenAI Chat, OpenAI Responses, Anthropic Messages; plain and streaming), the upstream the demo and the tests record against'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "demo" -d 'Record a short session against the mock LLM, replay it offline, and show what happened'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "diff" -d 'Show how the model\'s behaviour changed between two recordings, and fail on it'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "review" -d 'Walk the pending cassettes (from `vcr record --pending`): accept, reject or skip each'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "accept" -d 'Accept pending cassettes: NAME.yaml.pending replaces NAME.yaml [default: all pending]'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "reject" -d 'Reject pending cassettes: delete NAME.yaml.pending, keep NAME.yaml [default: all pending]'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "pending" -d 'List the pending cassettes and how each differs from its original'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "traces" -d 'Query the trace database: list, show, search, export'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "sessions" -d 'Sessions (X-TraceForge-Session-ID) and their step trees'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "db" -d 'Maintain the trace database: check, stats, backup, vacuum, prune'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "load" -d 'Run k6-style load scenarios (YAML) against a URL or an in-process replay server'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "pii" -d 'Find, protect and reveal PII and secrets in cassettes; list the redaction audit'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "policy" -d 'Check, list and test policies (policy-as-code)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo diff review accept reject pending traces sessions db load pii policy completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "record" -d 'Proxy to the real upstreams and record every interaction into cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "replay" -d 'Answer every request from cassettes, offline; a request never recorded is a miss'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "import" -d 'Convert cassettes from another tool into traceforge cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "list" -d 'List cassettes with their interaction counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "show" -d 'Print one cassette in a readable form'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "verify" -d 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "rebuild-from-cassettes" -d 'Build a fresh trace database from every cassette and swap it in atomically'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from traces" -f -a "list" -d 'List traces, newest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from traces" -f -a "show" -d 'Show one trace: by id, or CASSETTE#INTERACTION for the recorded one'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from traces" -f -a "search" -d 'Full-text search over prompts and responses, best match first'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from traces" -f -a "export" -d 'Write every trace as one JSON object per line'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "list" -d 'List sessions, newest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "show" -d 'Show a session\'s steps as a tree (from X-TraceForge-Parent-Step-ID)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "check" -d 'Integrity check and schema version (exit 1 on damage, with the fix)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "stats" -d 'Size, rows, time span and per-model counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "backup" -d 'Copy the database with SQLite\'s online backup (safe while the proxy writes)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "vacuum" -d 'Reclaim free space'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "prune" -d 'Delete traces older than a duration'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from load" -f -a "history" -d 'The recorded runs per scenario: each metric\'s trend as a table with sparklines'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from pii" -f -a "keygen" -d 'Print a new PII key (64 hex digits) for TRACEFORGE_PII_KEY or --pii-key-file'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from pii" -f -a "scan" -d 'Report unprotected PII and secrets in cassettes, never their values; exit 1 if any'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from pii" -f -a "redact" -d 'Rewrite cassettes with their PII and secrets protected in the configured mode'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from pii" -f -a "reveal" -d 'Print a cassette with the originals of its pseudonyms restored (needs the key)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from pii" -f -a "audit" -d 'List the redaction audit: every value masked or pseudonymised, oldest first'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "check" -d 'Evaluate every policy, enforced or not, against every recorded interaction'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "list" -d 'Show the rules in force for a scope and the file each comes from'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "test" -d 'Run the policy unit tests under POLICIES/tests/ (an input and the expected decisions each), like `opa test`'
