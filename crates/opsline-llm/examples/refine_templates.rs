//! LogHub accuracy with LLM template refinement (issue 13, item 3): the miner's templates are
//! refined by a model on an OpenAI-compatible endpoint through this crate's [`Endpoint`] (the
//! workspace's one HTTP stack), and the plain and refined tables are printed with the model
//! calls per 1,000 lines.
//!
//! `cargo run --release -p opsline-llm --example refine_templates -- ../shared/data/loghub
//!  --refine-with http://127.0.0.1:8080/v1 [--model NAME] [--calls-per-1000 20] [--samples 5] [--json]
//!  [--replay FILE]`
//!
//! `--replay FILE` keeps the model's answers by prompt in FILE and answers known prompts from
//! it (to re-score after changing the acceptance check without the model; the calls counted
//! are still the refiner's calls).
//!
//! The adapter is the whole of this file: `opsline_logmine::refine` is pure and takes any
//! [`TemplateModel`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use opsline_llm::endpoint::{CallSpec, Endpoint, Message};
use opsline_logmine::eval::{RefineOptions, evaluate_dirs_refined};
use opsline_logmine::refine::{ChatMessage, Role, TemplateModel};

/// A blocking [`TemplateModel`] over the gateway's endpoint client.
struct EndpointModel {
    endpoint: Endpoint,
    runtime: tokio::runtime::Runtime,
    model: String,
    schema: String,
    /// Answers by prompt, kept across runs with `--replay FILE` (re-running the evaluation after
    /// a change to the acceptance check then needs no model; the refiner still counts a call).
    replay: std::collections::HashMap<String, String>,
}

impl TemplateModel for EndpointModel {
    fn complete(&mut self, messages: &[ChatMessage]) -> Result<String, String> {
        let key: String = messages.iter().map(|m| format!("{:?}: {}\n", m.role, m.text)).collect();
        if let Some(answer) = self.replay.get(&key) {
            return Ok(answer.clone());
        }
        let messages: Vec<Message> = messages
            .iter()
            .map(|m| match m.role {
                Role::System => Message::System(m.text.clone()),
                Role::User => Message::User(m.text.clone()),
                Role::Assistant => Message::Assistant(m.text.clone()),
            })
            .collect();
        let spec = CallSpec {
            model: &self.model,
            temperature: 0.0,
            max_tokens: 256,
            schema_name: "log_template",
            schema: &self.schema,
            cache_prompt: true,
        };
        let answer = self
            .runtime
            .block_on(self.endpoint.complete(&spec, &messages))
            .map(|c| c.content)
            .map_err(|e| e.to_string())?;
        self.replay.insert(key, answer.clone());
        Ok(answer)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut dirs = Vec::new();
    let (mut url, mut model, mut json) = (None, "local".to_string(), false);
    let mut options = RefineOptions::default();
    let mut replay_file: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--refine-with" => url = Some(args.next().ok_or("--refine-with needs a URL")?),
            "--model" => model = args.next().ok_or("--model needs a name")?,
            "--calls-per-1000" => {
                options.calls_per_1000 = args.next().ok_or("--calls-per-1000 needs a value")?.parse()?
            }
            "--samples" => options.samples = args.next().ok_or("--samples needs a value")?.parse()?,
            "--json" => json = true,
            "--replay" => replay_file = Some(PathBuf::from(args.next().ok_or("--replay needs a file")?)),
            _ => dirs.push(PathBuf::from(arg)),
        }
    }
    let url = url.ok_or(
        "usage: refine_templates DIR... --refine-with URL [--model NAME] [--calls-per-1000 N] [--samples K] [--json]",
    )?;
    if dirs.is_empty() {
        dirs.push(PathBuf::from("../shared/data/loghub"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let endpoint = {
        let _guard = runtime.enter();
        Endpoint::new(&url, None, Duration::from_secs(300), None)?
    };
    let mut client = EndpointModel {
        endpoint,
        runtime,
        model,
        replay: match &replay_file {
            Some(path) if path.exists() => serde_json::from_str(&std::fs::read_to_string(path)?)?,
            _ => std::collections::HashMap::new(),
        },
        schema: serde_json::json!({
            "type": "object",
            "properties": { "template": { "type": "string" } },
            "required": ["template"],
            "additionalProperties": false
        })
        .to_string(),
    };
    let started = Instant::now();
    let report = evaluate_dirs_refined(
        &dirs,
        &opsline_logmine::MinerConfig::default(),
        &mut client,
        options,
        |name, s| {
            eprintln!(
                "{name}: {} calls, {} accepted, FTA {:.4} -> {:.4}, PA {:.4} -> {:.4} ({:.0} s so far)",
                s.stats.calls,
                s.stats.accepted,
                s.plain.fta,
                s.refined.fta,
                s.plain.pa,
                s.refined.pa,
                started.elapsed().as_secs_f64()
            );
            for (old, new, lines) in &s.accepted {
                eprintln!("  [{lines}] {old}\n     -> {new}");
            }
        },
    )?;
    if let Some(path) = &replay_file {
        std::fs::write(path, serde_json::to_string(&client.replay)?)?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
        println!("{:.0} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}
