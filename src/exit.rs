//! The process exit codes of DESIGN.md §8, in one place. Nothing below `lib.rs` calls
//! `std::process::exit`; commands return an [`Exit`] and `main` maps it.

/// How a command ended, mapped to the documented exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Success,
    /// 1: a check failed (replay miss, verify found a problem, diff changed).
    CheckFailed,
    /// 2: usage, configuration or I/O error.
    Usage,
    /// 99: a load-test threshold or the baseline comparison failed (k6's code).
    ThresholdFailed,
    /// 130: interrupted by Ctrl-C.
    Interrupted,
    /// The wrapped command's own status.
    Child(u8),
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::CheckFailed => 1,
            Exit::Usage => 2,
            Exit::ThresholdFailed => 99,
            Exit::Interrupted => 130,
            Exit::Child(code) => code,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
