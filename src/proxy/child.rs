//! Running the wrapped command (`vcr record -- pytest`): started with the proxy's environment,
//! sent the signals traceforge receives, and waited for; its status becomes traceforge's.

use std::collections::BTreeMap;

use tokio::process::Command;
use tokio::signal::unix::{signal, SignalKind};

/// How the wrapped command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// Exited with this status.
    Code(u8),
    /// Killed by this signal (reported as 128 + signal, as shells do).
    Signal(i32),
}

impl ChildExit {
    pub fn code(self) -> u8 {
        match self {
            ChildExit::Code(code) => code,
            ChildExit::Signal(signal) => (128 + signal).clamp(0, 255) as u8,
        }
    }
}

/// Why the command could not be run.
#[derive(Debug, thiserror::Error)]
#[error("cannot run {program:?}")]
pub struct SpawnError {
    program: String,
    #[source]
    source: std::io::Error,
}

/// Runs `argv` with `env` added to the environment, forwarding SIGINT, SIGTERM and SIGHUP.
///
/// SIGINT from a terminal already reaches the child (same foreground process group), so it is
/// forwarded only when traceforge is not the terminal's foreground group, i.e. when someone
/// sent it to traceforge alone; otherwise the child would see Ctrl-C twice.
pub async fn run(argv: &[String], env: &BTreeMap<String, String>) -> Result<ChildExit, SpawnError> {
    let (program, args) = argv.split_first().ok_or_else(|| SpawnError {
        program: String::new(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"),
    })?;
    let spawn_error = |source| SpawnError {
        program: program.clone(),
        source,
    };
    let mut interrupt = signal(SignalKind::interrupt()).map_err(spawn_error)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(spawn_error)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(spawn_error)?;
    let mut child = Command::new(program)
        .args(args)
        .envs(env)
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_error)?;
    let pid = child.id().and_then(|pid| i32::try_from(pid).ok());
    let send = |sig: i32| {
        if let Some(pid) = pid {
            // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
            unsafe {
                libc::kill(pid, sig);
            }
        }
    };
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(spawn_error)?,
            _ = interrupt.recv() => if !in_foreground_group() { send(libc::SIGINT) },
            _ = terminate.recv() => send(libc::SIGTERM),
            _ = hangup.recv() => send(libc::SIGHUP),
        }
    };
    use std::os::unix::process::ExitStatusExt as _;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => ChildExit::Code(code.clamp(0, 255) as u8),
        (None, Some(signal)) => ChildExit::Signal(signal),
        (None, None) => ChildExit::Code(1),
    })
}

/// True when this process group is the foreground group of the controlling terminal.
fn in_foreground_group() -> bool {
    // SAFETY: plain queries of process state with no pointers involved.
    unsafe {
        let foreground = libc::tcgetpgrp(libc::STDIN_FILENO);
        foreground > 0 && foreground == libc::getpgrp()
    }
}
