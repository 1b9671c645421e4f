//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`. Each route is
//! listed once in [`ROUTES`] with the role it needs; a test asks the running
//! daemon for every route listed here, so the document cannot name a route
//! the router does not serve.

use serde_json::{Map, Value, json};

/// One documented route: method, path, the role it needs (`None`: public), summary.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub role: Option<&'static str>,
    pub summary: &'static str,
    /// The request body's schema name in `components`, if it takes one.
    pub body: Option<&'static str>,
}

pub const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/healthz",
        role: None,
        summary: "Liveness: ok, or stopping during shutdown.",
        body: None,
    },
    Route {
        method: "get",
        path: "/metrics",
        role: None,
        summary: "Prometheus text: runs, step durations, schedule lateness, missed and skipped slots.",
        body: None,
    },
    Route { method: "get", path: "/api/v1/openapi.json", role: None, summary: "This document.", body: None },
    Route {
        method: "get",
        path: "/api/v1/runbooks",
        role: Some("viewer"),
        summary: "Runbooks loaded, with validation problems, schedules and next fire times; files too broken to name.",
        body: None,
    },
    Route {
        method: "get",
        path: "/api/v1/runbooks/{name}",
        role: Some("viewer"),
        summary: "One runbook: its good version's spec, the current file's problems, schedule and next fire times.",
        body: None,
    },
    Route {
        method: "post",
        path: "/api/v1/runbooks/{name}/plan",
        role: Some("viewer"),
        summary: "Plan the runbook (a dry run, recorded); answers with the run record and its plan.",
        body: Some("PlanRequest"),
    },
    Route {
        method: "post",
        path: "/api/v1/runbooks/{name}/runs",
        role: Some("operator"),
        summary: "Run the runbook (plan and apply), or apply the plan of an earlier plan run (plan_id). Answers 202 with the run id; with ?wait=true, the record once it ends.",
        body: Some("RunRequest"),
    },
    Route {
        method: "post",
        path: "/api/v1/runbooks/{name}/pause",
        role: Some("operator"),
        summary: "Pause the runbook's schedule (due slots are skipped and counted).",
        body: None,
    },
    Route {
        method: "post",
        path: "/api/v1/runbooks/{name}/resume",
        role: Some("operator"),
        summary: "Resume the runbook's schedule from the next slot.",
        body: None,
    },
    Route {
        method: "get",
        path: "/api/v1/runs",
        role: Some("viewer"),
        summary: "Stored runs, newest first, filtered by runbook, status and since; limit 1–1000 (default 50).",
        body: None,
    },
    Route {
        method: "get",
        path: "/api/v1/runs/{id}",
        role: Some("viewer"),
        summary: "One run (an id or a unique start of one): plan, applied steps, snapshot.",
        body: None,
    },
    Route {
        method: "post",
        path: "/api/v1/runs/{id}/rollback",
        role: Some("operator"),
        summary: "Restore the offsets the run changed from its snapshot (plan_only: just the plan). 202 with the run id; ?wait=true waits.",
        body: Some("RollbackRequest"),
    },
    Route {
        method: "post",
        path: "/api/v1/runs/{id}/decline",
        role: Some("operator"),
        summary: "Record that the plan of run id was shown and not confirmed: a declined run, nothing changed.",
        body: Some("DeclineRequest"),
    },
    Route {
        method: "post",
        path: "/api/v1/runs/{id}/approve",
        role: Some("operator"),
        summary: "Approve a pending plan (two-person rule: not its planner, at least the runbook's approval role, before it expires). The approval that completes it applies it: 202 with the apply's run id; ?wait=true waits for its record. Otherwise the pending record.",
        body: Some("DecisionRequest"),
    },
    Route {
        method: "post",
        path: "/api/v1/runs/{id}/reject",
        role: Some("operator"),
        summary: "Reject a pending plan: it is never applied. Same rules as approve.",
        body: Some("DecisionRequest"),
    },
];

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut operation = json!({
            "summary": route.summary,
            "responses": {
                "200": { "description": "OK" },
                "400": { "$ref": "#/components/responses/Error" },
                "404": { "$ref": "#/components/responses/Error" },
            },
        });
        if route.method == "post" && (route.path.ends_with("/runs") || route.path.ends_with("/rollback")) {
            operation["responses"]["202"] = json!({ "description": "Started; the body has run_id." });
            operation["parameters"] = json!([{ "name": "wait", "in": "query", "schema": { "type": "boolean" }, "description": "Answer once the run ends." }]);
        }
        if route.path == "/api/v1/runs" {
            operation["parameters"] = json!([
                { "name": "runbook", "in": "query", "schema": { "type": "string" } },
                { "name": "status", "in": "query", "schema": { "enum": ["running", "succeeded", "failed", "refused", "interrupted", "declined", "pending", "approved", "rejected", "expired"] } },
                { "name": "group", "in": "query", "schema": { "type": "string" }, "description": "Runs whose steps read or changed this consumer group." },
                { "name": "topic", "in": "query", "schema": { "type": "string" }, "description": "Runs whose steps read or changed this topic." },
                { "name": "since", "in": "query", "schema": { "type": "string", "format": "date-time" } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } },
            ]);
        }
        match route.role {
            Some(role) => {
                operation["security"] = json!([{ "bearer": [] }]);
                operation["x-ebb-role"] = json!(role);
                operation["responses"]["401"] = json!({ "$ref": "#/components/responses/Error" });
                operation["responses"]["403"] = json!({ "$ref": "#/components/responses/Error" });
            }
            None => operation["security"] = json!([]),
        }
        if let Some(schema) = route.body {
            operation["requestBody"] = json!({
                "required": false,
                "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } },
            });
            operation["responses"]["413"] = json!({ "$ref": "#/components/responses/Error" });
        }
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ebb daemon API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Runbooks, runs, plans and rollbacks of the ebb daemon. Roles: viewer < operator < admin; each token in ebb.yaml has one. A missing or unknown token is 401, too low a role 403.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Error": {
                    "description": "An error, with a stable code and a message for people.",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                        "code": { "type": "string" }, "message": { "type": "string" } } } },
                },
                "PlanRequest": {
                    "type": "object", "additionalProperties": false,
                    "properties": { "params": { "type": "object", "description": "Param values by name; defaults fill the rest." } },
                },
                "RunRequest": {
                    "type": "object", "additionalProperties": false,
                    "properties": {
                        "params": { "type": "object" },
                        "plan_id": { "type": "string", "description": "Apply the plan of this earlier plan run (refused if the cluster or the runbook drifted)." },
                    },
                },
                "DeclineRequest": {
                    "type": "object", "additionalProperties": false,
                    "properties": { "no_terminal": { "type": "boolean" } },
                },
                "DecisionRequest": {
                    "type": "object", "additionalProperties": false,
                    "properties": { "reason": { "type": "string", "maxLength": 500 } },
                },
                "RollbackRequest": {
                    "type": "object", "additionalProperties": false,
                    "properties": { "plan_only": { "type": "boolean" } },
                },
            },
        },
    })
}
