//! The clusters in ebb.yaml, and for each its topics (partitions, log start
//! and end) and consumer groups (state, members, committed offsets, lag),
//! read live as `ebb cluster describe` reads them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::page::{ConsoleError, Section, answer, link, page};
use super::step_html::table_html;
use super::visitor::Visitor;
use crate::daemon::path_segment::Segment;
use crate::daemon::state::Daemon;
use crate::provider::cluster_report::{build_report, tables};

/// How long reading a cluster for its page may take.
const READ_LIMIT: Duration = Duration::from_secs(15);

pub async fn list(State(daemon): State<Arc<Daemon>>, visitor: Visitor) -> Response {
    let clusters = &daemon.config.config.clusters;
    let body = html! {
        h1 { "Clusters" }
        div.scroll { table #clusters {
            thead { tr { th { "NAME" } th { "KIND" } } }
            tbody { @for (name, cluster) in clusters { tr { td { a href=(link("/ui/clusters/", name)) { (name) } } td { (cluster.kind_name()) } } } }
        } }
    };
    answer(page("Clusters", Section::Clusters, Some(&visitor), None, body))
}

pub async fn one(State(daemon): State<Arc<Daemon>>, visitor: Visitor, Segment(name): Segment) -> Response {
    if !daemon.config.config.clusters.contains_key(&name) {
        return ConsoleError::not_found(format!("no cluster named {} in ebb.yaml", crate::shown::quoted(&name)))
            .shown_to(&visitor);
    }
    let provider = match daemon.provider(&name) {
        Ok(provider) => provider,
        Err(e) => return ConsoleError::new(StatusCode::BAD_GATEWAY, e.to_string()).shown_to(&visitor),
    };
    let report = match tokio::time::timeout(READ_LIMIT, build_report(&provider, &[], &[])).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return ConsoleError::new(StatusCode::BAD_GATEWAY, e.to_string()).shown_to(&visitor),
        Err(_) => {
            return ConsoleError::new(StatusCode::GATEWAY_TIMEOUT, "the cluster did not answer in time")
                .shown_to(&visitor);
        }
    };
    let (topics, groups) = tables(&report);
    let body = html! {
        h1 { "Cluster " (name) }
        h2 { "Topics" }
        @if topics.is_empty() { p.muted { "No topics." } } @else { div #topics { (table_html(&topics)) } }
        h2 { "Consumer groups" }
        @if groups.is_empty() { p.muted { "No consumer groups." } } @else { div #groups { (table_html(&groups)) } }
        @for group in report.groups.iter().filter(|g| !g.members.is_empty()) {
            h3 { "Members of " (group.group) }
            div.scroll { table {
                thead { tr { th { "CLIENT-ID" } th { "HOST" } th { "TOPICS" } } }
                tbody { @for m in &group.members { tr { td.text { (m.client_id) } td.text { (m.host) } td.text { (m.topics.join(", ")) } } } }
            } }
        }
    };
    answer(page(&format!("Cluster {name}"), Section::Clusters, Some(&visitor), None, body))
}
