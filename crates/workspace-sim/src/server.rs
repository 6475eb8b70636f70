//! A running simulator: started on loopback (in this runtime or in a thread of its own), its
//! URL, what it counted, and the changes tests make while it runs.

use crate::config::SimConfig;
use crate::conn::{Cut, CuttableListener};
use crate::hostile::Hostile;
use crate::multi;
use crate::router::router;
use crate::shared::{build_shared, Shared};
use axum::Router;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The first line `workspace-sim` prints: this prefix, then its URL.
pub const LISTENING_PREFIX: &str = "listening on ";

/// Reads the simulator's URL from the first line of its standard output.
pub fn read_listening_line(stdout: impl std::io::Read) -> std::io::Result<String> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    line.trim()
        .strip_prefix(LISTENING_PREFIX)
        .map(str::to_owned)
        .ok_or_else(|| {
            std::io::Error::other(format!(
                "expected {LISTENING_PREFIX:?} and a URL, got {line:?}"
            ))
        })
}

/// A running simulator. Dropping it stops the server.
pub struct SimServer {
    addr: SocketAddr,
    /// The (first) project's simulator.
    shared: Arc<Shared>,
    /// Several projects and accounts, when the fixture has them.
    multi: Option<Arc<multi::Multi>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub(crate) fn check_loopback(listen: SocketAddr) -> std::io::Result<()> {
    if listen.ip().is_loopback() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("workspace-sim listens on loopback only, not {listen}"),
        ))
    }
}

/// Binds `listen` and serves `app` until the returned sender fires.
pub(crate) async fn serve(
    listen: SocketAddr,
    app: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, Cut>,
) -> std::io::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    check_loopback(listen)?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(CuttableListener(listener), app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok((addr, tx))
}

impl SimServer {
    /// Starts on `listen` inside the current Tokio runtime. Only loopback addresses are allowed.
    pub async fn start(mut config: SimConfig, listen: SocketAddr) -> std::io::Result<SimServer> {
        check_loopback(listen)?;
        config
            .fixture
            .resolve_times(&config.clock)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let shared = build_shared(config);
        let app = router(shared.clone()).into_make_service_with_connect_info::<Cut>();
        let (addr, shutdown) = serve(listen, app).await?;
        Ok(SimServer {
            addr,
            shared,
            multi: None,
            shutdown: Some(shutdown),
            thread: None,
        })
    }

    /// Starts a simulator of several projects and accounts (see [`multi`]) on `listen`.
    pub async fn start_multi(
        base: SimConfig,
        fixture: multi::MultiFixture,
        listen: SocketAddr,
    ) -> std::io::Result<SimServer> {
        check_loopback(listen)?;
        let mut fixture = fixture;
        for project in &mut fixture.projects {
            project
                .fixture
                .resolve_times(&base.clock)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        }
        let multi = Arc::new(multi::Multi::new(base, fixture));
        let first = multi.first_shared();
        let app = multi::router(multi.clone()).into_make_service_with_connect_info::<Cut>();
        let (addr, shutdown) = serve(listen, app).await?;
        Ok(SimServer {
            addr,
            shared: first,
            multi: Some(multi),
            shutdown: Some(shutdown),
            thread: None,
        })
    }

    /// Starts on `127.0.0.1:0` in a thread of its own, for synchronous tests and examples.
    pub fn spawn(config: SimConfig) -> std::io::Result<SimServer> {
        Self::spawn_with(move |listen| Box::pin(SimServer::start(config, listen)))
    }

    /// [`SimServer::spawn`] for several projects and accounts.
    pub fn spawn_multi(
        base: SimConfig,
        fixture: multi::MultiFixture,
    ) -> std::io::Result<SimServer> {
        Self::spawn_with(move |listen| Box::pin(SimServer::start_multi(base, fixture, listen)))
    }

    fn spawn_with(
        start: impl FnOnce(
                SocketAddr,
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = std::io::Result<SimServer>> + Send>,
            > + Send
            + 'static,
    ) -> std::io::Result<SimServer> {
        type Started = (
            SocketAddr,
            Arc<Shared>,
            Option<Arc<multi::Multi>>,
            tokio::sync::oneshot::Sender<()>,
        );
        let (tx, rx) = std::sync::mpsc::channel::<std::io::Result<Started>>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                match start(SocketAddr::from(([127, 0, 0, 1], 0))).await {
                    Ok(mut server) => {
                        let stop = tokio::sync::oneshot::channel::<()>();
                        let inner_shutdown = server.shutdown.take();
                        let _ = tx.send(Ok((
                            server.addr,
                            server.shared.clone(),
                            server.multi.clone(),
                            stop.0,
                        )));
                        let _ = stop.1.await;
                        if let Some(s) = inner_shutdown {
                            let _ = s.send(());
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
        let (addr, shared, multi, shutdown) = rx
            .recv()
            .map_err(|_| std::io::Error::other("simulator thread ended before it started"))??;
        Ok(SimServer {
            addr,
            shared,
            multi,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What `GET /__sim/state` answers.
    pub fn snapshot(&self) -> Value {
        match &self.multi {
            Some(multi) => multi.snapshot(),
            None => self.shared.state().snapshot(),
        }
    }

    /// DELETE requests received for `id`, whatever their answer.
    pub fn deletes_for(&self, id: &str) -> u64 {
        self.shared.state().deletes_for(id)
    }

    /// API requests received in all (the `__sim` routes not counted).
    pub fn api_requests(&self) -> u64 {
        match &self.multi {
            Some(multi) => multi.sum(|s| s.api_requests.load(Ordering::SeqCst)),
            None => self.shared.api_requests.load(Ordering::SeqCst),
        }
    }

    /// DELETE requests received in all.
    pub fn delete_requests(&self) -> u64 {
        match &self.multi {
            Some(multi) => multi.sum(|s| s.state().requests_to("delete")),
            None => self.shared.state().requests_to("delete"),
        }
    }

    /// Ids of the pools that exist now, sorted.
    pub fn pool_ids(&self) -> Vec<String> {
        self.shared
            .state()
            .pools()
            .filter_map(|p| p["id"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn set_desktops(&self, id: &str, count: u64) -> bool {
        self.shared.state().set_desktops(id, count)
    }

    /// Removes a pool without a DELETE (someone else deleted it).
    pub fn remove_pool(&self, id: &str) -> bool {
        self.shared.state().remove(id, false)
    }

    /// Creates a pool (someone else created it); returns its id.
    pub fn add_pool(&self, fields: Map<String, Value>) -> Option<String> {
        self.shared.state().upsert(None, fields)
    }

    /// Merges fields into an existing pool.
    pub fn patch_pool(&self, id: &str, fields: Map<String, Value>) -> bool {
        self.shared.state().upsert(Some(id), fields).is_some()
    }

    /// Changes the hostile answers while the simulator runs.
    pub fn set_hostile(&self, change: impl FnOnce(&mut Hostile)) {
        change(&mut self.shared.hostile());
    }

    /// The next `n` listings that read a first page see the first pool deleted and another
    /// created right after it (same count, shifted offsets).
    pub fn shift_next_listings(&self, n: u32) {
        self.shared.state().shift_listings(n);
    }

    /// Stops the server (also done on drop).
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
