//! The web console in a real headless Chromium against a real daemon and the
//! real broker: log in, plan a runbook with params from its form, apply the
//! plan and see what Apache's `kafka-consumer-groups --describe` sees, roll
//! it back with its plan shown first, approvals by a second person, a viewer
//! who cannot apply, hostile message contents that stay text, and forms
//! without their CSRF token refused.

use std::collections::BTreeMap;

use ebb_testkit::fantoccini::Locator;
use ebb_testkit::{Browser, Record, Seeder, apache, shared_cluster, unique};

use crate::cli_harness::seeded_topic_and_group;
use crate::console_support::{
    click, find, header, last_table, log_in, log_out, rows, run_id, text, wait_for_next_run, wait_for_text,
};
use crate::daemon_support::{DaemonWorkspace, OPERATOR, VIEWER};

const BOB: &str = "bob-token-51c0";

/// Apache's view of a group's committed offsets: partition → offset.
fn apache_offsets(group: &str) -> BTreeMap<i32, i64> {
    apache::group_offsets(&shared_cluster().bootstrap, group)
        .into_iter()
        .filter_map(|row| Some((row.partition, row.current?)))
        .collect()
}

/// The column `name` of table `css`, by partition (column `PARTITION`).
async fn by_partition(client: &ebb_testkit::fantoccini::Client, css: &str, name: &str) -> BTreeMap<i32, i64> {
    let header = header(client, css).await;
    let at = |wanted: &str| header.iter().position(|h| h == wanted).unwrap_or_else(|| panic!("{wanted} in {header:?}"));
    let (partition, column) = (at("PARTITION"), at(name));
    rows(client, css).await.iter().map(|row| (row[partition].parse().unwrap(), row[column].parse().unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_apply_and_roll_back_in_the_browser_agree_with_apache() {
    let (topic, group) = seeded_topic_and_group("ui", 2, "m").await;
    let workspace = DaemonWorkspace::new("");
    workspace.runbook(
        "rewind.yaml",
        &format!(
            "name: rewind\ndescription: Move a group to an offset\ncluster: local\nschedule: {{ cron: \"0 3 * * 1-5\", timezone: Europe/Paris }}\n\
             params:\n  group: {{ type: string, required: true }}\n  offset: {{ type: int, default: 5 }}\n\
             steps:\n  - id: reset\n    reset_offsets: {{ group: \"{{{{params.group}}}}\", topics: [{topic}], strategy: {{ to_offset: \"{{{{params.offset}}}}\" }} }}\n"
        ),
    );
    let daemon = workspace.start();
    let browser = Browser::start(1280, 900).await;
    let client = &browser.client;

    // A token that is not configured gets nowhere.
    client.goto(&format!("{}/ui/runs", daemon.url)).await.unwrap();
    find(client, "#token").await.send_keys("not-a-token").await.unwrap();
    click(client, "#login").await;
    assert!(text(client, "#error").await.contains("not one of daemon.tokens"));
    assert!(client.get_named_cookie("ebb_session").await.is_err(), "no session for a wrong token");

    // Logged in, the session cookie is HttpOnly and SameSite=Strict; the page asked for comes back.
    find(client, "#token").await.send_keys(OPERATOR).await.unwrap();
    click(client, "#login").await;
    find(client, "#runs").await;
    let cookie = client.get_named_cookie("ebb_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");
    assert_eq!(cookie.secure(), Some(false), "plain HTTP on loopback");

    // The runbooks page: schedule in words and as cron, next fire in its zone.
    client.goto(&format!("{}/ui/runbooks", daemon.url)).await.unwrap();
    let listed = rows(client, "#runbooks").await;
    let rewind = listed.iter().find(|r| r[0].starts_with("rewind")).expect("rewind listed");
    assert!(rewind[2].contains("At 3:00 AM, Monday through Friday") && rewind[2].contains("0 3 * * 1-5"), "{rewind:?}");
    assert!(rewind[3].contains("CET") || rewind[3].contains("CEST"), "next fire in Paris time: {rewind:?}");

    // Plan with params from the form: nothing changes.
    client.goto(&format!("{}/ui/runbooks/rewind", daemon.url)).await.unwrap();
    assert_eq!(find(client, "#param-offset").await.attr("type").await.unwrap().as_deref(), Some("number"));
    find(client, "#param-group").await.send_keys(&group).await.unwrap();
    let offset = find(client, "#param-offset").await;
    offset.clear().await.unwrap();
    offset.send_keys("15").await.unwrap();
    click(client, "#plan").await;
    wait_for_text(client, "#status", |s| s == "succeeded").await;
    let plan_id = run_id(client).await;
    assert_eq!(by_partition(client, ".step table", "TARGET").await, [(0, 15), (1, 15)].into());
    assert_eq!(by_partition(client, ".step table", "CURRENT").await, [(0, 10), (1, 10)].into());
    assert_eq!(apache_offsets(&group), [(0, 10), (1, 10)].into(), "a plan changes nothing");
    assert!(rows(client, "#params").await.contains(&vec!["offset".to_owned(), "15".to_owned()]));

    // Apply that plan: the page shows what Apache then describes.
    click(client, "form[action$='/apply'] button").await;
    let applied_id = wait_for_next_run(client, &plan_id, "succeeded").await;
    assert_eq!(text(client, "#actor").await, "ci");
    let after = by_partition(client, ".applied table", "AFTER").await;
    assert_eq!(after, apache_offsets(&group), "the page's AFTER is Apache's CURRENT-OFFSET");
    assert_eq!(after, [(0, 15), (1, 15)].into());
    assert_eq!(by_partition(client, "#snapshot-table table", "OFFSET-BEFORE").await, [(0, 10), (1, 10)].into());

    // Roll back: the rollback's plan is shown first and changes nothing until applied.
    click(client, "form[action$='/rollback'] button").await;
    let rollback_plan = wait_for_next_run(client, &applied_id, "succeeded").await;
    assert_eq!(text(client, "#plan-title").await, "Rollback plan");
    assert_eq!(by_partition(client, ".step table", "TARGET").await, [(0, 10), (1, 10)].into());
    assert_eq!(apache_offsets(&group), [(0, 15), (1, 15)].into(), "a rollback plan changes nothing");
    click(client, "form[action$='/apply'] button").await;
    wait_for_next_run(client, &rollback_plan, "succeeded").await;
    assert_eq!(apache_offsets(&group), [(0, 10), (1, 10)].into(), "rolled back");

    // A run's address can be shared; the runs list filters by runbook and trigger.
    client.goto(&format!("{}/ui/runs/{applied_id}", daemon.url)).await.unwrap();
    assert_eq!(run_id(client).await, applied_id);
    client.goto(&format!("{}/ui/runs?runbook=rewind&trigger=rollback", daemon.url)).await.unwrap();
    let listed = rows(client, "#runs").await;
    assert_eq!(listed.len(), 2, "the rollback's plan and its apply: {listed:?}");

    // The cluster page shows the group's lag as Apache does.
    client.goto(&format!("{}/ui/clusters/local", daemon.url)).await.unwrap();
    let groups = rows(client, "#groups").await;
    for row in apache::group_offsets(&shared_cluster().bootstrap, &group) {
        let shown = groups.iter().find(|r| r[0] == group && r[4] == row.partition.to_string()).expect("group row");
        assert_eq!(shown[7], row.lag.unwrap().to_string(), "lag of partition {}", row.partition);
    }

    // Logged out, the session is over on the server too.
    log_out(&browser).await;
    client.goto(&format!("{}/ui/runs", daemon.url)).await.unwrap();
    find(client, "#token").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_person_approves_and_a_viewer_cannot_apply() {
    let (topic, group) = seeded_topic_and_group("ui-appr", 2, "m").await;
    let workspace =
        DaemonWorkspace::with_daemon_settings(&format!("    - {{ name: bob, role: operator, token: {BOB} }}\n"), "");
    workspace.runbook(
        "guarded.yaml",
        &format!(
            "name: guarded\ncluster: local\napproval: {{ required: 1 }}\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_offset: 15 }} }}\n"
        ),
    );
    let daemon = workspace.start();
    let browser = Browser::start(1280, 900).await;
    let client = &browser.client;

    // ci applies: the plan waits for someone else, and ci's own approval is refused.
    log_in(&browser, &daemon.url, OPERATOR).await;
    client.goto(&format!("{}/ui/runbooks/guarded", daemon.url)).await.unwrap();
    click(client, "#apply").await;
    wait_for_text(client, "#status", |s| s == "pending").await;
    let pending = run_id(client).await;
    click(client, "form[action$='/approve'] button").await;
    assert!(text(client, "#error").await.contains("someone else"), "self-approval refused");
    assert_eq!(apache_offsets(&group), [(0, 10), (1, 10)].into());
    log_out(&browser).await;

    // A viewer sees no enabled apply or approve button, and the server refuses the form anyway.
    log_in(&browser, &daemon.url, VIEWER).await;
    client.goto(&format!("{}/ui/runbooks/guarded", daemon.url)).await.unwrap();
    assert!(!find(client, "#apply").await.is_enabled().await.unwrap(), "a viewer's apply button is disabled");
    assert!(find(client, "#plan").await.is_enabled().await.unwrap(), "a viewer may plan");
    client.goto(&format!("{}/ui/pending", daemon.url)).await.unwrap();
    let buttons = client.find_all(Locator::Css("main button")).await.unwrap();
    assert_eq!(buttons.len(), 2, "approve and reject");
    for button in buttons {
        assert!(!button.is_enabled().await.unwrap(), "a viewer's approve and reject are disabled");
    }
    let csrf = find(client, "input[name=csrf]").await.attr("value").await.unwrap().unwrap();
    let session = client.get_named_cookie("ebb_session").await.unwrap().value().to_owned();
    let forced = reqwest::Client::new()
        .post(format!("{}/ui/runs/{pending}/approve", daemon.url))
        .header("cookie", format!("ebb_session={session}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status().as_u16(), 403, "the server refuses a viewer");
    assert_eq!(apache_offsets(&group), [(0, 10), (1, 10)].into());
    log_out(&browser).await;

    // bob sees the plan against the cluster now: moved, then as planned; he approves, and the apply runs.
    log_in(&browser, &daemon.url, BOB).await;
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    seeder.commit(&group, &[(&topic, 0, 12)]).await;
    client.goto(&format!("{}/ui/pending", daemon.url)).await.unwrap();
    let (_, moved) = last_table(client, ".pending-plan table").await;
    assert_eq!((moved[0][2].as_str(), moved[0][3].as_str()), ("10", "12"), "{moved:?}");
    assert!(text(client, ".live").await.contains("moved since the plan"));
    seeder.commit(&group, &[(&topic, 0, 10)]).await;
    client.goto(&format!("{}/ui/pending", daemon.url)).await.unwrap();
    let live = text(client, ".live").await;
    assert!(live.contains("as planned"), "{live}");
    let (live_header, live) = last_table(client, ".pending-plan table").await;
    assert_eq!(live_header, ["TOPIC", "PARTITION", "COMMITTED-AT-PLAN", "COMMITTED-NOW", "TARGET"]);
    assert!(live.iter().all(|row| row[2] == "10" && row[3] == "10" && row[4] == "15"), "{live:?}");
    click(client, &format!("form[action='/ui/runs/{pending}/approve'] button")).await;
    wait_for_text(client, "#status", |s| s == "succeeded").await;
    assert_eq!(text(client, "#actor").await, "bob");
    assert_eq!(apache_offsets(&group), [(0, 15), (1, 15)].into());
    let applied = run_id(client).await;
    client.goto(&format!("{}/ui/runs/{pending}", daemon.url)).await.unwrap();
    assert_eq!(text(client, "#status").await, "approved");
    assert!(text(client, "#approval").await.contains("by bob"));

    // Its rollback is under the same rule: shown as a pending plan, nothing changed until approved.
    client.goto(&format!("{}/ui/runs/{applied}", daemon.url)).await.unwrap();
    click(client, "form[action$='/rollback'] button").await;
    wait_for_next_run(client, &applied, "pending").await;
    assert_eq!(text(client, "#plan-title").await, "Rollback plan");
    assert!(
        client.find_all(Locator::Css("form[action$='/apply']")).await.unwrap().is_empty(),
        "not applied as a saved plan"
    );
    assert_eq!(apache_offsets(&group), [(0, 15), (1, 15)].into());
    browser.close().await;
}

/// What Kafka hands back is shown as text: none of these may become markup.
const KEY: &str = "<script>alert(1)</script>";
const VALUE: &str = "\"><img src=x onerror=alert(1)>";
const HEADER: &str = "onmouseover=\"alert(1)\"";

#[tokio::test(flavor = "multi_thread")]
async fn hostile_messages_render_as_text_and_forms_need_their_csrf_token() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("ui-xss");
    seeder.create_topic(&topic, 1).await;
    seeder.produce(&topic, 0, [Record::value(VALUE).key(KEY).header(HEADER, "<b>bold</b>")]).await;
    let (reset_topic, group) = seeded_topic_and_group("ui-csrf", 1, "m").await;
    let workspace = DaemonWorkspace::new("");
    workspace.runbook(
        "peek.yaml",
        &format!("name: peek\ncluster: local\nsteps:\n  - id: find\n    query_messages: {{ topic: {topic}, last: 10, contains: alert }}\n"),
    );
    workspace.runbook(
        "move.yaml",
        &format!(
            "name: move\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{reset_topic}], strategy: {{ to_offset: 15 }} }}\n"
        ),
    );
    let daemon = workspace.start();
    let browser = Browser::start(1280, 900).await;
    let client = &browser.client;
    log_in(&browser, &daemon.url, OPERATOR).await;
    client.goto(&format!("{}/ui/runbooks/peek", daemon.url)).await.unwrap();
    click(client, "#plan").await;
    wait_for_text(client, "#status", |s| s == "succeeded").await;
    let peek_run = run_id(client).await;
    let (names, kept) = last_table(client, ".step table").await;
    assert_eq!(names, ["PARTITION", "OFFSET", "TIME", "KEY", "VALUE", "HEADERS"]);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!((kept[0][3].as_str(), kept[0][4].as_str()), (KEY, VALUE), "key and value shown as they are");
    assert_eq!(kept[0][5], format!("{HEADER}=<b>bold</b>"));
    assert!(client.find_all(Locator::Css("main img, main b, main script, script")).await.unwrap().is_empty());
    assert!(client.get_alert_text().await.is_err(), "no dialog opened");
    let headers_of = reqwest::get(format!("{}/ui/login", daemon.url)).await.unwrap();
    let policy = headers_of.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");

    // A form posted without its CSRF token, with another's, or from another origin changes nothing.
    let session = client.get_named_cookie("ebb_session").await.unwrap().value().to_owned();
    let csrf = find(client, "input[name=csrf]").await.attr("value").await.unwrap().unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post = |fields: Vec<(&'static str, String)>, origin: Option<&'static str>| {
        let mut request = http
            .post(format!("{}/ui/runbooks/move/apply", daemon.url))
            .header("cookie", format!("ebb_session={session}"))
            .form(&fields);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(post(vec![], None).await.unwrap().status().as_u16(), 403, "no token");
    // Every form that changes something checks its token.
    for path in [
        "/ui/logout".to_owned(),
        "/ui/runbooks/move/plan".to_owned(),
        "/ui/runbooks/move/pause".to_owned(),
        "/ui/runbooks/move/resume".to_owned(),
        format!("/ui/runs/{peek_run}/apply"),
        format!("/ui/runs/{peek_run}/rollback"),
        format!("/ui/runs/{peek_run}/approve"),
        format!("/ui/runs/{peek_run}/reject"),
    ] {
        let refused = http
            .post(format!("{}{path}", daemon.url))
            .header("cookie", format!("ebb_session={session}"))
            .form(&[("reason", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 403, "{path} without its CSRF token");
    }
    assert_eq!(post(vec![("csrf", "x".repeat(43))], None).await.unwrap().status().as_u16(), 403, "a wrong token");
    let cross = post(vec![("csrf", csrf.clone())], Some("http://evil.example")).await.unwrap();
    assert_eq!(cross.status().as_u16(), 403, "another origin");
    assert_eq!(apache_offsets(&group), [(0, 10)].into(), "nothing applied");
    let good = post(vec![("csrf", csrf)], None).await.unwrap();
    assert_eq!(good.status().as_u16(), 303, "the same form with its token is taken");
    browser.close().await;
}

/// Screenshots of the main pages, at 1280 px and on a phone's width, where
/// no page may be wider than the screen; their colours follow the system's
/// light or dark. Written to `$EBB_SCREENSHOTS` when
/// set (scripts/screenshots fills docs/screenshots/ this way).
#[tokio::test(flavor = "multi_thread")]
async fn screenshots_of_the_main_pages_fit_a_desktop_and_a_phone_in_light_and_dark() {
    let (topic, group) = seeded_topic_and_group("ui-shot", 3, "order").await;
    let (other_topic, other_group) = seeded_topic_and_group("ui-shot-appr", 2, "order").await;
    let workspace =
        DaemonWorkspace::with_daemon_settings(&format!("    - {{ name: bob, role: operator, token: {BOB} }}\n"), "");
    workspace.runbook(
        "replay-orders.yaml",
        &format!(
            "name: replay-orders\ndescription: Rewind the orders consumers to an offset\ncluster: local\n\
             schedule: {{ cron: \"30 2 * * 1-5\", timezone: Europe/Berlin, mode: plan }}\n\
             params:\n  offset: {{ type: int, default: 5, description: where the group starts again }}\n  dry: {{ type: bool, default: true }}\n\
             steps:\n  - id: rewind\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_offset: \"{{{{params.offset}}}}\" }} }}\n"
        ),
    );
    workspace.runbook(
        "skip-ahead.yaml",
        &format!(
            "name: skip-ahead\ncluster: local\napproval: {{ required: 1 }}\nsteps:\n  - id: skip\n    reset_offsets: {{ group: {other_group}, topics: [{other_topic}], strategy: {{ to_offset: 20 }} }}\n"
        ),
    );
    let daemon = workspace.start();
    let browser = Browser::start(1280, 900).await;
    let client = &browser.client;
    log_in(&browser, &daemon.url, OPERATOR).await;
    client.goto(&format!("{}/ui/runbooks/replay-orders", daemon.url)).await.unwrap();
    click(client, "#apply").await;
    wait_for_text(client, "#status", |s| s == "succeeded").await;
    let applied = run_id(client).await;
    client.goto(&format!("{}/ui/runbooks/skip-ahead", daemon.url)).await.unwrap();
    click(client, "#apply").await;
    wait_for_text(client, "#status", |s| s == "pending").await;

    let out = std::env::var_os("EBB_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(unique("ebb-screenshots")));
    std::fs::create_dir_all(&out).unwrap();
    let pages = [
        ("runbooks", "/ui/runbooks".to_owned()),
        ("runbook", "/ui/runbooks/replay-orders".to_owned()),
        ("run", format!("/ui/runs/{applied}")),
        ("runs", "/ui/runs".to_owned()),
        ("pending", "/ui/pending".to_owned()),
        ("cluster", "/ui/clusters/local".to_owned()),
    ];
    for (width, suffix) in [(1280, ""), (390, "-phone")] {
        client.set_window_size(width, if width > 500 { 900 } else { 844 }).await.unwrap();
        for (name, path) in &pages {
            client.goto(&format!("{}{path}", daemon.url)).await.unwrap();
            find(client, "main h1").await;
            let png = client.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG");
            if suffix.is_empty() || *name == "run" {
                std::fs::write(out.join(format!("{name}{suffix}.png")), png).unwrap();
            }
            // The page itself is no wider than the window; wide tables scroll inside it.
            let fits = client
                .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
                .await
                .unwrap();
            assert_eq!(fits, serde_json::json!(true), "{name} is wider than {width} px");
        }
    }
    // Dark and light follow the system.
    let background = |client: &ebb_testkit::fantoccini::Client| {
        let client = client.clone();
        async move {
            let value =
                client.execute("return getComputedStyle(document.body).backgroundColor;", vec![]).await.unwrap();
            value.as_str().unwrap().to_owned()
        }
    };
    assert_eq!(background(client).await, "rgb(255, 255, 255)", "light by default");
    let dark = Browser::start_dark(1280, 900).await;
    log_in(&dark, &daemon.url, OPERATOR).await;
    assert_eq!(background(&dark.client).await, "rgb(15, 20, 25)", "dark when the system is");
    dark.close().await;
    if std::env::var_os("EBB_SCREENSHOTS").is_none() {
        let _ = std::fs::remove_dir_all(&out);
    }
    browser.close().await;
}
