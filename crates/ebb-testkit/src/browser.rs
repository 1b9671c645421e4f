//! A real headless Chromium for the console's tests, driven over WebDriver:
//! Debian's `chromium` and `chromium-driver` (chromedriver on a free loopback
//! port, its own profile directory). There is no skip: a test that needs a
//! browser fails with how to install one when it is missing.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::unique;

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

/// A program on PATH (or named by `variable`), if there is one.
fn program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    names.iter().flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name))).find(|p| p.is_file())
}

impl Browser {
    /// Starts chromedriver and opens a headless Chromium window `width` pixels wide.
    pub async fn start(width: u32, height: u32) -> Browser {
        Browser::launch(width, height, &[]).await
    }

    /// Like [`Browser::start`], with the system asking pages for their dark colours.
    pub async fn start_dark(width: u32, height: u32) -> Browser {
        Browser::launch(width, height, &["--force-dark-mode"]).await
    }

    async fn launch(width: u32, height: u32, extra: &[&str]) -> Browser {
        let install = "install Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`; \
                       .ci/run does) or name them with EBB_CHROMIUM and EBB_CHROMEDRIVER";
        let chromium = program("EBB_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])
            .unwrap_or_else(|| panic!("no Chromium for the console's browser tests: {install}"));
        let chromedriver = program("EBB_CHROMEDRIVER", &["chromedriver"])
            .unwrap_or_else(|| panic!("no chromedriver for the console's browser tests: {install}"));
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let profile = std::env::temp_dir().join(unique("ebb-chromium"));
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
        ]
        .iter()
        .chain(extra)
        .map(|a| (*a).to_owned())
        .collect();
        args.push(format!("--window-size={width},{height}"));
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut capabilities = Capabilities::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "binary": chromium, "args": args }));
        capabilities.insert("acceptInsecureCerts".into(), json!(true));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("chromedriver did not open a Chromium session: {e}"),
            }
        };
        client.set_window_size(width, height).await.expect("the window's size");
        Browser { client, driver, profile }
    }

    /// Ends the browser session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
