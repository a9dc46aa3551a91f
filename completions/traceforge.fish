# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_traceforge_global_optspecs
    string join \n config= q/quiet color= h/help V/version
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
complete -c traceforge -n "__fish_traceforge_needs_command" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_needs_command" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_needs_command" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "vcr" -d 'Record, replay, import and inspect cassettes'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "mock-llm" -d 'Run the built-in deterministic LLM server (OpenAI Chat, OpenAI Responses, Anthropic Messages; plain and streaming), the upstream the demo and the tests record against'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "demo" -d 'Record a short session against the mock LLM, replay it offline, and show what happened'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c traceforge -n "__fish_traceforge_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -f -a "record" -d 'Proxy to the real upstreams and record every interaction into cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -f -a "replay" -d 'Answer every request from cassettes, offline; a request never recorded is a miss'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -f -a "import" -d 'Convert cassettes from another tool into traceforge cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -f -a "list" -d 'List cassettes with their interaction counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -f -a "show" -d 'Print one cassette in a readable form'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -f -a "verify" -d 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and not __fish_seen_subcommand_from record replay import list show verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l cassette -d 'Cassette for requests without an X-TraceForge-Cassette header' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l listen -d 'Address to listen on; port 0 picks a free port' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l ready-file -d 'Write the bound address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l match -d 'Request fields compared when matching (comma-separated) [default: method,upstream,path,query,body]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l mode -d 'When to forward and record [default: new-episodes; required when CI is set]' -r -f -a "once\t'Record when the cassette does not exist yet; otherwise replay it and refuse new requests'
new-episodes\t'Replay what matches, record everything else'
all\t'Always forward and rewrite the cassette with this run\'s interactions'
none\t'Replay only; never forward'"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l upstream -d 'Add or override an upstream: NAME=URL (repeatable), e.g. ollama=http://127.0.0.1:11434' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l upstream-timeout -d 'Give up on an upstream that sends nothing for this long (e.g. 30s, 500ms) [default: 600s]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -l allow-repeats -d 'Replay the last matching interaction again when a request repeats more often than recorded'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from record" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l cassette -d 'Cassette for requests without an X-TraceForge-Cassette header' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l listen -d 'Address to listen on; port 0 picks a free port' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l ready-file -d 'Write the bound address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l match -d 'Request fields compared when matching (comma-separated) [default: method,upstream,path,query,body]' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -l allow-repeats -d 'Replay the last matching interaction again when a request repeats more often than recorded'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from replay" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l from -d 'Format of the files to import' -r -f -a "vcrpy\t'vcrpy and pytest-recording YAML cassettes'"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l cassettes -d 'Directory to write cassettes into [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l cassette -d 'Cassette name to use (only with a single FILE)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -l force -d 'Overwrite cassettes that already exist'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t''
json\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l cassettes -d 'Directory holding the cassettes [default: cassettes]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "record" -d 'Proxy to the real upstreams and record every interaction into cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "replay" -d 'Answer every request from cassettes, offline; a request never recorded is a miss'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "import" -d 'Convert cassettes from another tool into traceforge cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "list" -d 'List cassettes with their interaction counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print one cassette in a readable form'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
complete -c traceforge -n "__fish_traceforge_using_subcommand vcr; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l listen -d 'Address to listen on; port 0 picks a free port' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l ready-file -d 'Write the bound address (host:port) to this file once listening' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l first-event-delay -d 'Delay before the first streamed event (e.g. 200ms)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l event-delay -d 'Delay between streamed events (e.g. 20ms)' -r
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand mock-llm" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l keep -d 'Keep the demo\'s cassettes in this directory instead of a temporary one' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand demo" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -l config -d 'Configuration file [default: traceforge.yaml in the current directory, if present]' -r -F
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -l color -d 'When to use colour' -r -f -a "auto\t''
always\t''
never\t''"
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -s h -l help -d 'Print help'
complete -c traceforge -n "__fish_traceforge_using_subcommand completions" -s V -l version -d 'Print version'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo completions help" -f -a "vcr" -d 'Record, replay, import and inspect cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo completions help" -f -a "mock-llm" -d 'Run the built-in deterministic LLM server (OpenAI Chat, OpenAI Responses, Anthropic Messages; plain and streaming), the upstream the demo and the tests record against'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo completions help" -f -a "demo" -d 'Record a short session against the mock LLM, replay it offline, and show what happened'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and not __fish_seen_subcommand_from vcr mock-llm demo completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "record" -d 'Proxy to the real upstreams and record every interaction into cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "replay" -d 'Answer every request from cassettes, offline; a request never recorded is a miss'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "import" -d 'Convert cassettes from another tool into traceforge cassettes'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "list" -d 'List cassettes with their interaction counts'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "show" -d 'Print one cassette in a readable form'
complete -c traceforge -n "__fish_traceforge_using_subcommand help; and __fish_seen_subcommand_from vcr" -f -a "verify" -d 'Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)'
