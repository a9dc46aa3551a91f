//! `traceforge mock-llm`: serve the built-in deterministic LLM until Ctrl-C.

use std::io::Write as _;
use std::sync::Arc;

use super::Globals;
use crate::cli::{LogFormat, MockLlmArgs};
use crate::mock::MockConfig;
use crate::{duration, server, Exit};

pub(crate) fn run(globals: &Globals, args: MockLlmArgs) -> anyhow::Result<Exit> {
    let config = Arc::new(MockConfig {
        first_event_delay: duration::parse(&args.first_event_delay)
            .map_err(|e| anyhow::anyhow!("--first-event-delay: {e}"))?,
        event_delay: duration::parse(&args.event_delay)
            .map_err(|e| anyhow::anyhow!("--event-delay: {e}"))?,
    });
    super::runtime()?.block_on(async {
        let listener = server::bind(&args.listen).await?;
        let addr = listener.local_addr()?;
        let stop = super::StopSignal::install();
        server::announce(args.ready_file.as_deref(), addr)?;
        match globals.log_format {
            LogFormat::Text => writeln!(
                globals.printer.stderr(),
                "traceforge mock-llm: listening on http://{addr} (Ctrl-C to stop)"
            )?,
            LogFormat::Json => tracing::info!(url = %format!("http://{addr}"), "listening"),
        }
        server::serve(
            listener,
            move |request| crate::mock::handle(config.clone(), request),
            stop.received(),
        )
        .await;
        anyhow::Ok(Exit::Success)
    })
}
