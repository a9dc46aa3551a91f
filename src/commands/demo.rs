//! `traceforge demo`: placeholder replaced below.
use super::Globals;
use crate::cli::DemoArgs;
use crate::Exit;

pub(crate) fn run(_globals: &Globals, _args: DemoArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("demo is being written")
}
