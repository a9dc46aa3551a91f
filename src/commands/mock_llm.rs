//! `traceforge mock-llm`: serve the built-in deterministic LLM until Ctrl-C.

use std::io::Write as _;
use std::sync::Arc;

use crate::cli::MockLlmArgs;
use crate::mock::MockConfig;
use crate::output::Printer;
use crate::{duration, server, Exit};

pub(crate) fn run(printer: &Printer, args: MockLlmArgs) -> anyhow::Result<Exit> {
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
        let who = "traceforge mock-llm";
        let lifecycle = Arc::new(server::Lifecycle::default());
        let serving = super::Serving::start(printer, who, &args.serve, lifecycle.clone()).await?;
        server::announce(args.ready_file.as_deref(), addr)?;
        writeln!(
            printer.stderr(),
            "{who}: listening on http://{addr} (Ctrl-C to stop)"
        )?;
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
