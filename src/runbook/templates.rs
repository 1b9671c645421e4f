//! Templates in runbook fields: handlebars in strict mode (an unknown variable
//! is an error, never an empty string), without HTML escaping, with the helpers
//! `gt gte lt lte eq ne and or not len` (plus handlebars' `if unless each with
//! lookup`). The context a step sees: `params`, `steps.<id>.output` of earlier
//! steps, `run` (id, trigger, mode, started_at, status, summary), `runbook`
//! (name, description, cluster, sha256) and `now`.
//!
//! Validation compiles every template and checks each variable it names against
//! that context; rendering happens during a run, and a render error names the
//! step and the field.

use handlebars::template::{Parameter, Template, TemplateElement};
use handlebars::{Handlebars, Path, PathSeg};

/// Helpers the templates may call.
pub const HELPERS: [&str; 16] =
    ["gt", "gte", "lt", "lte", "eq", "ne", "and", "or", "not", "len", "if", "unless", "each", "with", "lookup", "log"];

const RUN_FIELDS: [&str; 6] = ["id", "trigger", "mode", "started_at", "status", "summary"];
const RUNBOOK_FIELDS: [&str; 4] = ["name", "description", "cluster", "sha256"];

/// What a template in one place may refer to.
pub struct Scope<'a> {
    /// Declared params.
    pub params: &'a [&'a str],
    /// Ids of the steps whose outputs exist by then.
    pub steps: &'a [&'a str],
}

/// Compiles `text` and checks every variable it names; each problem is one message.
pub fn check(text: &str, scope: &Scope<'_>) -> Vec<String> {
    match Template::compile(text) {
        Err(e) => vec![parse_problem(text, &e)],
        Ok(template) => {
            let mut problems = Vec::new();
            elements(&template, scope, true, &mut problems);
            problems.dedup();
            problems
        }
    }
}

fn parse_problem(text: &str, e: &handlebars::TemplateError) -> String {
    let at = e.pos().map(|(line, column)| format!(" at line {line}, column {column}")).unwrap_or_default();
    let hint = if text.matches("{{").count() != text.matches("}}").count() {
        "every `{{` needs a closing `}}`".to_owned()
    } else {
        match e.reason() {
            handlebars::TemplateErrorReason::InvalidSyntax(_) => "invalid handlebars syntax".to_owned(),
            other => other.to_string(),
        }
    };
    format!("template does not parse{at}: {hint}")
}

fn elements(template: &Template, scope: &Scope<'_>, top_level: bool, problems: &mut Vec<String>) {
    for element in &template.elements {
        match element {
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                if h.params.is_empty() && h.hash.is_empty() && !is_helper(&h.name) {
                    parameter(&h.name, scope, top_level, problems);
                } else {
                    helper_call(&h.name, &h.params, h.hash.values(), scope, top_level, problems);
                }
            }
            TemplateElement::HelperBlock(h) => {
                helper_call(&h.name, &h.params, h.hash.values(), scope, top_level, problems);
                // `each` and `with` change what a relative name means inside them.
                let inner_top = top_level && !matches!(&h.name, Parameter::Name(n) if n == "each" || n == "with");
                for body in [&h.template, &h.inverse].into_iter().flatten() {
                    elements(body, scope, inner_top, problems);
                }
            }
            TemplateElement::DecoratorExpression(_)
            | TemplateElement::DecoratorBlock(_)
            | TemplateElement::PartialExpression(_)
            | TemplateElement::PartialBlock(_) => {
                problems.push("templates cannot use partials or decorators".to_owned())
            }
            _ => problems.push("unsupported template element".to_owned()),
        }
    }
}

fn is_helper(name: &Parameter) -> bool {
    matches!(name, Parameter::Name(n) if HELPERS.contains(&n.as_str()))
}

fn helper_call<'p>(
    name: &'p Parameter,
    params: &'p [Parameter],
    hash: impl Iterator<Item = &'p Parameter>,
    scope: &Scope<'_>,
    top_level: bool,
    problems: &mut Vec<String>,
) {
    match name {
        Parameter::Name(n) if HELPERS.contains(&n.as_str()) => {}
        Parameter::Name(n) => problems.push(format!("unknown helper `{n}` (helpers: {})", HELPERS[..10].join(" "))),
        other => parameter(other, scope, top_level, problems),
    }
    for p in params.iter().chain(hash) {
        parameter(p, scope, top_level, problems);
    }
}

fn parameter(p: &Parameter, scope: &Scope<'_>, top_level: bool, problems: &mut Vec<String>) {
    match p {
        Parameter::Name(name) if top_level => variable(&[name.as_str()], scope, problems),
        Parameter::Literal(_) | Parameter::Name(_) => {}
        Parameter::Path(Path::Relative((segments, raw))) => {
            // `@root.x` is a ruled first segment; `this` and `..` make a path relative to a block.
            let rooted = raw.starts_with("@root");
            let names: Option<Vec<&str>> = segments
                .iter()
                .skip(usize::from(rooted))
                .map(|s| match s {
                    PathSeg::Named(n) => Some(n.as_str()),
                    _ => None,
                })
                .collect();
            if let Some(names) = names
                && (rooted || top_level)
            {
                variable(&names, scope, problems);
            }
        }
        Parameter::Path(Path::Local(_)) => {}
        Parameter::Subexpression(sub) => match sub.as_element() {
            TemplateElement::Expression(h) => {
                helper_call(&h.name, &h.params, h.hash.values(), scope, top_level, problems)
            }
            _ => problems.push("unsupported subexpression".to_owned()),
        },
        _ => {}
    }
}

fn variable(path: &[&str], scope: &Scope<'_>, problems: &mut Vec<String>) {
    let shown = path.join(".");
    let problem = match path {
        [] => None,
        ["params"] | ["steps"] | ["run"] | ["runbook"] | ["now"] => None,
        ["params", name, ..] if scope.params.contains(name) => None,
        ["params", name, ..] => Some(format!("`{shown}` names no declared param `{name}`{}", known(scope.params))),
        ["steps", id, rest @ ..] if scope.steps.contains(id) => match rest {
            [] | ["output", ..] | ["status"] => None,
            [other, ..] => Some(format!("`{shown}`: a step exposes `output` and `status`, not `{other}`")),
        },
        ["steps", id, ..] => Some(format!("`{shown}` names no earlier step `{id}`{}", known(scope.steps))),
        ["run", field] if RUN_FIELDS.contains(field) => None,
        ["run", ..] => Some(format!("`{shown}`: run has {}", RUN_FIELDS.join(", "))),
        ["runbook", field] if RUNBOOK_FIELDS.contains(field) => None,
        ["runbook", ..] => Some(format!("`{shown}`: runbook has {}", RUNBOOK_FIELDS.join(", "))),
        [other, ..] => Some(format!(
            "unknown variable `{shown}`: templates see params, steps, run, runbook and now (not `{other}`)"
        )),
    };
    problems.extend(problem);
}

fn known(names: &[&str]) -> String {
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() { " (there are none)".to_owned() } else { format!(" (known: {})", names.join(", ")) }
}

/// A template that failed to render, with the step and field it belongs to
/// (the message names the field; whoever shows it names the step, once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct RenderError {
    pub step: String,
    pub field: String,
    pub message: String,
}

/// Renders templates with ebb's settings.
pub struct Renderer {
    registry: Handlebars<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        Renderer { registry }
    }
}

impl Renderer {
    /// Renders the template in `field` of `step` against `context`.
    pub fn render(
        &self,
        step: &str,
        field: &str,
        text: &str,
        context: &serde_json::Value,
    ) -> Result<String, RenderError> {
        self.registry.render_template(text, context).map_err(|e| RenderError {
            step: step.to_owned(),
            field: field.to_owned(),
            message: render_reason(&e),
        })
    }
}

fn render_reason(e: &handlebars::RenderError) -> String {
    use handlebars::RenderErrorReason as R;
    match e.reason() {
        R::MissingVariable(Some(path)) => format!("variable `{path}` has no value"),
        other => other.to_string(),
    }
}

/// Whether a rendered `when` or `check.that` counts as true: empty text,
/// `false`, `0` and `null` are false; anything else is true.
pub fn is_truthy(rendered: &str) -> bool {
    !matches!(rendered.trim(), "" | "false" | "0" | "null")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scope() -> Scope<'static> {
        Scope { params: &["topic", "window"], steps: &["find", "targets"] }
    }

    #[test]
    fn known_variables_and_helpers_pass() {
        for text in [
            "{{params.topic}}",
            "-{{params.window}}",
            "{{gt steps.find.output.count 0}}",
            "{{and (gt steps.find.output.count 0) (not (eq run.mode \"plan\"))}}",
            "{{runbook.name}} {{run.status}}: {{run.summary}} at {{now}}",
            "{{#each steps.find.output.messages}}{{offset}} {{@index}} {{@root.params.topic}}{{/each}}",
            "{{#if steps.targets.status}}x{{else}}y{{/if}}",
            "{{len steps.find.output.messages}}",
            "plain text",
        ] {
            assert_eq!(check(text, &scope()), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn unknown_names_and_bad_syntax_are_problems() {
        let cases = [
            ("{{params.topc}}", "names no declared param `topc` (known: topic, window)"),
            ("{{gt steps.later.output.count 0}}", "names no earlier step `later`"),
            ("{{steps.find.outptu}}", "a step exposes `output` and `status`, not `outptu`"),
            ("{{run.owner}}", "run has id, trigger"),
            ("{{topic}}", "unknown variable `topic`"),
            ("{{bigger steps.find.output.count 0}}", "unknown helper `bigger`"),
            ("{{params.topic", "template does not parse"),
            ("{{#if x}}", "template does not parse"),
            ("{{> partial}}", "partials or decorators"),
            ("{{#each steps.find.output.messages}}{{@root.params.nope}}{{/each}}", "no declared param `nope`"),
        ];
        for (text, expected) in cases {
            let problems = check(text, &scope());
            assert!(problems.iter().any(|p| p.contains(expected)), "{text}: {problems:?}");
        }
    }

    #[test]
    fn rendering_is_strict_and_unescaped() {
        let renderer = Renderer::default();
        let context = json!({ "params": { "keyword": "<a & b>", "n": 3 }, "steps": {} });
        assert_eq!(renderer.render("s", "f", "{{params.keyword}}", &context).unwrap(), "<a & b>");
        assert_eq!(renderer.render("s", "f", "{{gt params.n 2}}", &context).unwrap(), "true");
        assert_eq!(renderer.render("s", "f", "{{and (lte params.n 3) (ne params.n 4)}}", &context).unwrap(), "true");
        let err = renderer.render("reset", "when", "{{params.missing}}", &context).unwrap_err();
        assert_eq!(err.step, "reset");
        assert!(err.to_string().starts_with("field `when`: ") && err.step == "reset", "{err}");
        assert!(err.to_string().contains("params.missing"), "{err}");
    }

    #[test]
    fn truthiness() {
        assert!(is_truthy("true") && is_truthy("3") && is_truthy("x"));
        assert!(!is_truthy("false") && !is_truthy(" 0 ") && !is_truthy("") && !is_truthy("null"));
    }
}
