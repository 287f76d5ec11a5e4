//! Picks the transport: inside AWS Lambda the router is handed to
//! `lambda_http`; everywhere else it is served locally.

use std::process::ExitCode;

use clap::Parser;
use presign_gateway::cli::{Cli, ServeArgs};
use presign_gateway::config::{Config, Runtime};
use presign_gateway::{telemetry, transport};

fn main() -> ExitCode {
    let runtime = if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        Runtime::Lambda
    } else {
        Runtime::Local
    };
    let args = match runtime {
        Runtime::Lambda => ServeArgs::from_env(),
        Runtime::Local => Cli::parse().serve_args(),
    };
    let args = args.unwrap_or_else(|error| error.exit());
    match run(args, runtime) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("presign-gateway: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: ServeArgs, runtime: Runtime) -> anyhow::Result<()> {
    let config = Config::from_args(args, runtime)?;
    telemetry::init(&config.log);
    let tokio = tokio::runtime::Runtime::new()?;
    tokio.block_on(async {
        match runtime {
            Runtime::Lambda => transport::lambda::run(config)
                .await
                .map_err(|e| anyhow::anyhow!(e)),
            Runtime::Local => transport::local::serve(config).await,
        }
    })
}
