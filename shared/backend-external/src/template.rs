//! The command template: split into arguments once (as a POSIX shell would, without running one), its
//! placeholders checked when the backend is built and filled in per run, inside each argument, so a
//! value with spaces or quotes stays one argument. With `shell = true` the whole template is one
//! `sh -c` script and each value is shell-quoted.

use std::path::Path;

const KEY: &str = "CRITICLOOP_BACKEND__COMMAND";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    Pairs,
    Base,
    Output,
    Work,
    Beta,
    LearningRate,
    Epochs,
    Seed,
}

const VARS: [(&str, Var); 8] = [
    ("pairs", Var::Pairs),
    ("base", Var::Base),
    ("output", Var::Output),
    ("work", Var::Work),
    ("beta", Var::Beta),
    ("learning_rate", Var::LearningRate),
    ("epochs", Var::Epochs),
    ("seed", Var::Seed),
];

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Var(Var),
}

/// What one run fills the placeholders with.
pub struct Values<'a> {
    /// The pairs, JSONL in TRL's format.
    pub pairs: &'a Path,
    /// The base checkpoint's folder (read-only: it is the cached copy other runs use).
    pub base: &'a Path,
    /// The empty folder the command writes the trained checkpoint into.
    pub output: &'a Path,
    /// The run's folder, for the command's scratch files (removed after the run).
    pub work: &'a Path,
    pub beta: f64,
    pub learning_rate: f64,
    pub epochs: u32,
    pub seed: u64,
}

impl Values<'_> {
    fn get(&self, var: Var) -> String {
        match var {
            Var::Pairs => self.pairs.display().to_string(),
            Var::Base => self.base.display().to_string(),
            Var::Output => self.output.display().to_string(),
            Var::Work => self.work.display().to_string(),
            Var::Beta => self.beta.to_string(),
            Var::LearningRate => self.learning_rate.to_string(),
            Var::Epochs => self.epochs.to_string(),
            Var::Seed => self.seed.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Template {
    /// One entry per argument; with `shell`, one entry: the script.
    words: Vec<Vec<Piece>>,
    shell: bool,
}

impl Template {
    /// Parses `raw`; every error names `CRITICLOOP_BACKEND__COMMAND` and what to fix.
    pub fn parse(raw: &str, shell: bool) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err(format!(
                "{KEY} is not set: the external trainer needs a command, e.g. `python scripts/trainers/trl_dpo.py \
                 --pairs {{pairs}} --base {{base}} --output {{output}} --beta {{beta}} --learning-rate \
                 {{learning_rate}} --epochs {{epochs}} --seed {{seed}}`"
            ));
        }
        let words = if shell {
            vec![pieces(raw)?]
        } else {
            let split = shlex::split(raw).ok_or_else(|| {
                format!("{KEY}: unbalanced quotes or a trailing backslash in `{raw}` (arguments are split as sh does)")
            })?;
            split.iter().map(|w| pieces(w)).collect::<Result<Vec<_>, _>>()?
        };
        let used = |v: Var| words.iter().flatten().any(|p| *p == Piece::Var(v));
        let missing: Vec<String> = [("pairs", Var::Pairs), ("base", Var::Base), ("output", Var::Output)]
            .into_iter()
            .filter(|(_, v)| !used(*v))
            .map(|(n, _)| format!("{{{n}}}"))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{KEY}: the command must receive {} (the pairs file, the base checkpoint folder and the output folder)",
                missing.join(", ")
            ));
        }
        if !shell && matches!(words.first().map(Vec::as_slice), Some([Piece::Var(_), ..])) {
            return Err(format!("{KEY}: the program (first word) cannot be a placeholder"));
        }
        Ok(Template { words, shell })
    }

    /// The program run (`sh` with `shell = true`), for logs and metrics.
    pub fn program(&self) -> String {
        if self.shell {
            return "sh".into();
        }
        self.words
            .first()
            .map(|w| w.iter().map(|p| if let Piece::Text(t) = p { t.as_str() } else { "" }).collect())
            .unwrap_or_default()
    }

    /// The argument vector for one run: program first.
    pub fn render(&self, values: &Values<'_>) -> Result<Vec<String>, String> {
        if self.shell {
            let mut script = String::new();
            for piece in self.words.iter().flatten() {
                match piece {
                    Piece::Text(t) => script.push_str(t),
                    Piece::Var(v) => {
                        let value = values.get(*v);
                        let quoted =
                            shlex::try_quote(&value).map_err(|e| format!("{KEY}: cannot quote `{value}`: {e}"))?;
                        script.push_str(&quoted);
                    }
                }
            }
            return Ok(vec!["sh".into(), "-c".into(), script]);
        }
        Ok(self
            .words
            .iter()
            .map(|w| {
                w.iter()
                    .map(|p| match p {
                        Piece::Text(t) => t.clone(),
                        Piece::Var(v) => values.get(*v),
                    })
                    .collect()
            })
            .collect())
    }
}

/// `{name}` placeholders and `{{`/`}}` escapes of one argument (or the whole script).
fn pieces(word: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(format!("{KEY}: an unclosed `{{{name}` in `{word}` (write {{{{ for a literal brace)"));
                }
                let var = VARS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
                    let known: Vec<String> = VARS.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                    format!(
                        "{KEY}: unknown placeholder `{{{name}}}` in `{word}` (known: {}; write {{{{ and }}}} for literal braces)",
                        known.join(", ")
                    )
                })?;
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(Piece::Var(var));
            }
            '}' => return Err(format!("{KEY}: a lone `}}` in `{word}` (write }}}} for a literal brace)")),
            c => text.push(c),
        }
    }
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            pairs: Path::new("/w/run 1/pairs.jsonl"),
            base: Path::new("/w/ckpt"),
            output: Path::new("/w/run 1/output"),
            work: Path::new("/w/run 1"),
            beta: 0.1,
            learning_rate: 5e-7,
            epochs: 2,
            seed: 7,
        }
    }

    #[test]
    fn template_splits_like_sh_and_fills_placeholders_inside_arguments() {
        let t = Template::parse(
            r#"torchrun --nproc-per-node 2 "my trainer.py" --data={pairs} --base {base} --out {output} --lr {learning_rate} --x '{{literal}}' {beta} {epochs} {seed} {work}"#,
            false,
        )
        .expect("valid");
        assert_eq!(t.program(), "torchrun");
        let argv = t.render(&values()).expect("render");
        assert_eq!(
            argv,
            [
                "torchrun",
                "--nproc-per-node",
                "2",
                "my trainer.py",
                "--data=/w/run 1/pairs.jsonl",
                "--base",
                "/w/ckpt",
                "--out",
                "/w/run 1/output",
                "--lr",
                "0.0000005",
                "--x",
                "{literal}",
                "0.1",
                "2",
                "7",
                "/w/run 1",
            ]
        );
    }

    #[test]
    fn template_in_shell_mode_quotes_each_value() {
        let t = Template::parse("cd {work} && exec trainer {pairs} {base} {output} 2>&1", true).expect("valid");
        assert_eq!(t.program(), "sh");
        let argv = t.render(&values()).expect("render");
        assert_eq!(argv[..2], ["sh", "-c"]);
        assert_eq!(argv[2], "cd '/w/run 1' && exec trainer '/w/run 1/pairs.jsonl' /w/ckpt '/w/run 1/output' 2>&1");
    }

    #[test]
    fn template_errors_name_the_key_and_the_problem() {
        let err = |raw: &str| Template::parse(raw, false).expect_err(raw);
        assert!(err("").contains("CRITICLOOP_BACKEND__COMMAND is not set"));
        let e = err("t {pairs} {base} {output} {lr}");
        assert!(e.contains("unknown placeholder `{lr}`") && e.contains("{learning_rate}"), "{e}");
        let e = err("t {pairs} {output}");
        assert!(e.contains("must receive {base}"), "{e}");
        let e = err("t '{pairs} {base} {output}");
        assert!(e.contains("unbalanced quotes"), "{e}");
        let e = err("t {pairs} {base} {output} }");
        assert!(e.contains("lone `}`"), "{e}");
        let e = err("{base} {pairs} {output}");
        assert!(e.contains("cannot be a placeholder"), "{e}");
        assert!(err("t {pairs} {base} {output} {seed").contains("unclosed `{seed`"));
    }
}
