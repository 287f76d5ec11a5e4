//! Picks the transport: inside AWS Lambda the router is handed to
//! `lambda_http`; everywhere else it is served locally.

use std::process::ExitCode;

use clap::Parser;
use presign_gateway::cli::{CatalogCommand, Cli, Command, ServeArgs};
#[cfg(feature = "client")]
use presign_gateway::client;
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
            // The one place the program's name is written: no message starts with it.
            eprintln!("presign-gateway: {error:#}");
            exit_code(&error)
        }
    }
}

/// 130 after Ctrl-C, as shells expect; 1 for every other failure.
fn exit_code(error: &anyhow::Error) -> ExitCode {
    #[cfg(feature = "client")]
    if let Some(client::ClientError::Interrupted(_)) = error.downcast_ref() {
        return ExitCode::from(130);
    }
    let _ = error;
    ExitCode::FAILURE
}

/// Retries and warnings on standard error, written for a person; `LOG_LEVEL` as for the server.
#[cfg(feature = "client")]
fn init_client_logs() {
    telemetry::init_for_people(&std::env::var("LOG_LEVEL").unwrap_or_else(|_| "warn".to_owned()));
}

fn run(command: Command, runtime: Runtime) -> anyhow::Result<()> {
    let threads = tokio::runtime::Runtime::new;
    match command {
        Command::Serve(args) => {
            let config = Config::from_args(args, runtime)?;
            let _log = telemetry::init(&config.log);
            let processor = std::env::var(transport::processor::FUNCTION_ROLE).is_ok_and(|role| role == "processor");
            match runtime {
                Runtime::Lambda if processor => threads()?.block_on(transport::processor::serve(config)),
                Runtime::Lambda => threads()?.block_on(transport::lambda::run(config)).map_err(|e| anyhow::anyhow!(e)),
                Runtime::Local => threads()?.block_on(transport::local::serve(config)),
            }
        }
        Command::Share(args) => {
            let share = ShareCommand::from_args(&args)?;
            println!("{}", threads()?.block_on(transport::share(share))?);
            Ok(())
        }
        #[cfg(feature = "client")]
        Command::Upload(args) => {
            init_client_logs();
            let gateway = client::GatewayClient::new(args.token)?;
            let options = client::UploadOptions {
                source: args.source,
                url: args.url,
                part_size: args.part_size,
                concurrency: args.concurrency,
                resume: args.resume,
                sha256: args.sha256,
                content_type: args.content_type,
                metadata: args.metadata,
            };
            println!("{}", threads()?.block_on(client::upload(&gateway, options))?);
            Ok(())
        }
        #[cfg(feature = "client")]
        Command::Download(args) => {
            init_client_logs();
            let to_stdout = args.dest == "-";
            let gateway = client::GatewayClient::new(args.token)?;
            let options = client::DownloadOptions { url: args.url, dest: args.dest, resume: args.resume };
            // One thread: each chunk of the body goes from the socket to the
            // file on it, without waking another (client/download.rs).
            let one_thread = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let done = one_thread.block_on(client::download(&gateway, options))?;
            // Standard output carries the file itself when it is the destination.
            if to_stdout {
                eprintln!("{done}");
            } else {
                println!("{done}");
            }
            Ok(())
        }
        #[cfg(feature = "embedded-store")]
        Command::Store(args) => {
            let config = StoreOnlyConfig::from_args(args)?;
            let _log = telemetry::init(&config.log);
            threads()?.block_on(transport::local::serve_store(config))
        }
        Command::Catalog(CatalogCommand::Sync(args)) => {
            telemetry::init_for_people(&std::env::var("LOG_LEVEL").unwrap_or_else(|_| "warn".to_owned()));
            // Configured as the functions are: a bucket on AWS S3 unless --endpoint names another.
            let config = Config::from_args(args.serve, Runtime::Lambda)?;
            let synced = threads()?.block_on(transport::processor::sync(config, args.render))?;
            println!(
                "{} objects listed, {} filed in the upload log, {} rendered, {} removed (gone from storage)",
                synced.seen, synced.filed, synced.rendered, synced.removed
            );
            Ok(())
        }
        Command::Keys(command) => {
            telemetry::init_for_people(&std::env::var("LOG_LEVEL").unwrap_or_else(|_| "warn".to_owned()));
            println!("{}", threads()?.block_on(transport::keys::run(command))?);
            Ok(())
        }
    }
}
