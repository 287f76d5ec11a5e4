//! Picks the transport: inside AWS Lambda the router is handed to
//! `lambda_http`; everywhere else it is served locally.

use std::process::ExitCode;

use clap::Parser;
use presign_gateway::cli::{Cli, Command, ServeArgs};
#[cfg(feature = "embedded-store")]
use presign_gateway::config::StoreOnlyConfig;
use presign_gateway::config::{Config, Runtime, ShareCommand};
use presign_gateway::{telemetry, transport};

fn main() -> ExitCode {
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let command = if in_lambda {
        ServeArgs::from_env().map(Command::Serve)
    } else {
        Cli::parse().command.map_or_else(|| ServeArgs::from_env().map(Command::Serve), Ok)
    };
    let command = command.unwrap_or_else(|error| error.exit());
    let runtime = if in_lambda { Runtime::Lambda } else { Runtime::Local };
    match run(command, runtime) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("presign-gateway: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, runtime: Runtime) -> anyhow::Result<()> {
    let tokio = tokio::runtime::Runtime::new()?;
    match command {
        Command::Serve(args) => {
            let config = Config::from_args(args, runtime)?;
            telemetry::init(&config.log);
            match runtime {
                Runtime::Lambda => tokio.block_on(transport::lambda::run(config)).map_err(|e| anyhow::anyhow!(e)),
                Runtime::Local => tokio.block_on(transport::local::serve(config)),
            }
        }
        Command::Share(args) => {
            let share = ShareCommand::from_args(&args)?;
            let grant = share.order.into_grant(std::time::SystemTime::now());
            println!("{}", share.keys.url(&share.base_url, &grant));
            Ok(())
        }
        #[cfg(feature = "embedded-store")]
        Command::Store(args) => {
            let config = StoreOnlyConfig::from_args(args)?;
            telemetry::init(&config.log);
            tokio.block_on(transport::local::serve_store(config))
        }
    }
}
