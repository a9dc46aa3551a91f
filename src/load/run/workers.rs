//! The threads virtual users run on: each drives a single-threaded tokio runtime built by the
//! caller (`commands`), so a VU and its connection never hop between threads (as `oha` does).
//! This only keeps the runtimes running until dropped; it never builds one.

/// Threads each driving a single-threaded runtime that virtual users are spawned onto. The
/// runtimes are built by the caller (`commands`); this only keeps them running until dropped.
#[derive(Default)]
pub struct Workers {
    handles: Vec<tokio::runtime::Handle>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    /// Runs `runtime` on a new thread until the workers are dropped.
    pub fn add(&mut self, runtime: tokio::runtime::Runtime, name: &str) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.handles.push(runtime.handle().clone());
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                runtime.shutdown_background();
            })?;
        self.stops.push(stop);
        self.threads.push(thread);
        Ok(())
    }

    pub fn handles(&self) -> Vec<tokio::runtime::Handle> {
        self.handles.clone()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
