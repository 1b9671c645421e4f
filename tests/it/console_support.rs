//! Driving the console in a real headless Chromium: logging in, waiting for
//! pages, reading tables as the page shows them.

use std::time::{Duration, Instant};

use ebb_testkit::Browser;
use ebb_testkit::fantoccini::{Client, Locator};

/// Waits (20 s at most) for an element matching `css` on the current page.
pub async fn find(client: &Client, css: &str) -> ebb_testkit::fantoccini::elements::Element {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(found) = client.find(Locator::Css(css)).await {
            return found;
        }
        if Instant::now() > deadline {
            let page = client.source().await.unwrap_or_default();
            panic!("no {css} on {}:\n{page}", client.current_url().await.map(|u| u.to_string()).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn text(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap()
}

/// Waits (60 s at most) until `css`'s text satisfies `done`, reloading as the page does.
pub async fn wait_for_text(client: &Client, css: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(found) = client.find(Locator::Css(css)).await
            && let Ok(text) = found.text().await
            && done(&text)
        {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} never got there:\n{}", client.source().await.unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn click(client: &Client, css: &str) {
    find(client, css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Logs in at `url` with `token` and waits for the runbooks page.
pub async fn log_in(browser: &Browser, url: &str, token: &str) {
    let client = &browser.client;
    client.goto(&format!("{url}/ui/login")).await.unwrap();
    find(client, "#token").await.send_keys(token).await.unwrap();
    click(client, "#login").await;
    find(client, "#who").await;
}

pub async fn log_out(browser: &Browser) {
    click(&browser.client, "#logout").await;
    find(&browser.client, "#token").await;
}

/// The cells of each body row of the table `css` names, as the page shows them.
pub async fn rows(client: &Client, css: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for row in client.find_all(Locator::Css(&format!("{css} tbody tr"))).await.unwrap() {
        let mut cells = Vec::new();
        for cell in row.find_all(Locator::Css("td")).await.unwrap() {
            cells.push(cell.text().await.unwrap());
        }
        rows.push(cells);
    }
    rows
}

/// The header of the table `css` names.
pub async fn header(client: &Client, css: &str) -> Vec<String> {
    let mut names = Vec::new();
    for cell in client.find_all(Locator::Css(&format!("{css} thead th"))).await.unwrap() {
        names.push(cell.text().await.unwrap());
    }
    names
}

/// The run id the current page shows.
pub async fn run_id(client: &Client) -> String {
    text(client, "#run-id").await
}

/// The header and body rows of the last table matching `css`.
pub async fn last_table(client: &Client, css: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let tables = client.find_all(Locator::Css(css)).await.unwrap();
    let table = tables.last().unwrap_or_else(|| panic!("no {css}"));
    let mut names = Vec::new();
    for cell in table.find_all(Locator::Css("thead th")).await.unwrap() {
        names.push(cell.text().await.unwrap());
    }
    let mut rows = Vec::new();
    for row in table.find_all(Locator::Css("tbody tr")).await.unwrap() {
        let mut cells = Vec::new();
        for cell in row.find_all(Locator::Css("td")).await.unwrap() {
            cells.push(cell.text().await.unwrap());
        }
        rows.push(cells);
    }
    (names, rows)
}

/// Waits for the page of a run other than `previous`, then for its status to be `status`.
pub async fn wait_for_next_run(client: &Client, previous: &str, status: &str) -> String {
    let id = wait_for_text(client, "#run-id", |id| id != previous).await;
    wait_for_text(client, "#status", |s| s == status).await;
    id
}
