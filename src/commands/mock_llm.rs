//! `traceforge mock-llm`: serve the built-in deterministic LLM until Ctrl-C.

use std::io::Write as _;
use std::sync::Arc;

use super::Globals;
use crate::cli::{LogFormat, MockLlmArgs};
use crate::mock::MockConfig;
use crate::{duration, server, Exit};

pub(crate) fn run(globals: &Globals, args: MockLlmArgs) -> anyhow::Result<Exit> {
    let printer = &globals.printer;
    let config = Arc::new(MockConfig {
        first_event_delay: duration::parse(&args.first_event_delay)
            .map_err(|e| anyhow::anyhow!("--first-event-delay: {e}"))?,
        event_delay: duration::parse(&args.event_delay)
            .map_err(|e| anyhow::anyhow!("--event-delay: {e}"))?,
    });
    super::runtime(super::Threads::Workers)?.block_on(async {
        let listener = server::bind(&args.listen).await?;
        let addr = listener.local_addr()?;
        let stop = super::StopSignal::install();
        let who = "traceforge mock-llm";
        let lifecycle = Arc::new(server::Lifecycle::default());
        let serving = super::Serving::start(printer, who, &args.serve, lifecycle.clone()).await?;
        server::announce(args.ready_file.as_deref(), addr)?;
        match globals.log_format {
            LogFormat::Text => writeln!(
                printer.stderr(),
                "{who}: listening on http://{addr} (Ctrl-C to stop)"
            )?,
            LogFormat::Json => tracing::info!(url = %format!("http://{addr}"), "listening"),
        }
        server::serve_on(
            listener,
            move |request| crate::mock::handle(config.clone(), request),
            stop.watch(lifecycle, false),
            serving.options.clone(),
        )
        .await;
        serving.finish().await;
        anyhow::Ok(Exit::Success)
    })
}
