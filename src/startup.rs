//! Builds the application: database, state, HTTP server with its middleware and routes.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlers, NormalizePath, TrailingSlash, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::db::Db;
use crate::extract;
use crate::state::AppState;

/// `/docs` (and `/docs/`, trimmed) opens the Swagger UI.
async fn docs_redirect() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Found().insert_header(("location", "/docs/index.html")).finish()
}

/// A bound, not yet awaited, server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Opens the database (running migrations), binds the listener and builds the server.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = Db::open(&settings.database_url, settings.db_pool_size)?;
        let listener = TcpListener::bind(&settings.bind)?;
        let state = AppState::new(settings, db)?;
        Self::with_listener(state, listener)
    }

    /// Builds the server on an existing listener and state.
    pub fn with_listener(state: AppState, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        if state.settings.outbox_enabled {
            tokio::spawn(crate::outbox::dispatcher::Dispatcher::new(state.clone()).run());
            tokio::spawn(crate::campaigns::runner::run(state.clone()));
        }
        if state.settings.relay_enabled {
            tokio::spawn(crate::relay::worker::run(state.clone()));
        }
        tokio::spawn(crate::webhooks::Processor::new(state.clone()).run());
        crate::jobs::spawn(&state);
        let spec = crate::openapi::spec();
        let data = web::Data::new(state.clone());
        let workers = match state.settings.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let max_body = state.settings.max_body_bytes;
        let server = HttpServer::new(move || {
            let metrics = data.metrics.clone();
            App::new()
                .into_utoipa_app()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .app_data(extract::path_config())
                .app_data(extract::query_config())
                .configure(crate::routes::configure)
                .into_app()
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec.clone()))
                .route("/docs", web::get().to(docs_redirect))
                .default_service(web::to(extract::not_found))
                .wrap(from_fn(extract::refuse_nul))
                .wrap(ErrorHandlers::new().default_handler(extract::problemize))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap_fn(move |req, srv| {
                    let started = Instant::now();
                    let method = req.method().as_str().to_owned();
                    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                    let metrics = metrics.clone();
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        metrics.observe(&method, res.status().as_u16(), started.elapsed().as_secs_f64());
                        if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                            res.headers_mut().insert(HeaderName::from_static("x-request-id"), id);
                        }
                        Ok(res)
                    }
                })
                .wrap(TracingLogger::<crate::telemetry::SafeRootSpan>::new())
        })
        .workers(workers)
        .shutdown_timeout(15)
        .listen(listener)?
        .run();
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
