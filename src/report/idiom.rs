//! How to read a credential from the environment, in the language of the file the
//! key was found in, so the remediation shows the line to write instead.

/// (file endings, idiom with `{}` for the variable name)
const IDIOMS: &[(&[&str], &str)] = &[
    (&[".py", ".pyw", ".ipynb"], "os.environ[\"{}\"]"),
    (
        &[
            ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".vue", ".svelte",
        ],
        "process.env.{}",
    ),
    (
        &[".rb", ".erb", ".rake", "Gemfile"],
        "ENV[\"{}\"]  (or Rails credentials)",
    ),
    (
        &[".java", ".kt", ".kts", ".scala", ".groovy", ".gradle"],
        "System.getenv(\"{}\")",
    ),
    (&[".go"], "os.Getenv(\"{}\")"),
    (&[".php"], "getenv('{}')"),
    (
        &[".cs", ".fs", ".vb"],
        "Environment.GetEnvironmentVariable(\"{}\")",
    ),
    (&[".rs"], "std::env::var(\"{}\")"),
    (&[".swift"], "ProcessInfo.processInfo.environment[\"{}\"]"),
    (&[".ex", ".exs"], "System.fetch_env!(\"{}\")"),
    (&[".c", ".h", ".cc", ".cpp", ".hpp"], "getenv(\"{}\")"),
    (&[".sh", ".bash", ".zsh", ".envrc"], "\"${}\""),
    (&[".ps1"], "$env:{}"),
    (
        &[".tf", ".tfvars"],
        "var.{}  (set with TF_VAR_{}, marked sensitive)",
    ),
    (
        &[".yml", ".yaml"],
        "${{{{ secrets.{} }}}}  (a CI secret, not a value in the file)",
    ),
    (
        &["Dockerfile", ".dockerfile"],
        "a build secret (RUN --mount=type=secret) or a run-time -e {}, never ENV",
    ),
];

const FALLBACK: &str = "the environment variable {} or your secrets vault";

/// The idiom for `path`, with the variable name filled in.
pub fn load_from_env(path: &str, var: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let template = if name.starts_with(".env") {
        // A .env file is itself the place for such values: it must stay out of git.
        return format!("keep {var} in an untracked .env file (add it to .gitignore)");
    } else {
        IDIOMS
            .iter()
            .find(|(ends, _)| ends.iter().any(|e| name.ends_with(e)))
            .map_or(FALLBACK, |(_, t)| t)
    };
    // Templates use `{}` for the variable and `{{`/`}}` for literal braces.
    template
        .replace("{{", "\u{0}")
        .replace("}}", "\u{1}")
        .replace("{}", var)
        .replace('\u{0}', "{")
        .replace('\u{1}', "}")
}

#[cfg(test)]
mod tests {
    use super::load_from_env;

    #[test]
    fn idioms_by_language() {
        assert_eq!(load_from_env("app/settings.py", "K"), "os.environ[\"K\"]");
        assert_eq!(load_from_env("web/pay.ts", "K"), "process.env.K");
        assert_eq!(load_from_env("Pay.java", "K"), "System.getenv(\"K\")");
        assert!(load_from_env(".github/workflows/ci.yml", "K").starts_with("${{ secrets.K }}"));
        assert_eq!(load_from_env("run.sh", "K"), "\"$K\"");
        assert!(load_from_env("notes.txt", "K").contains("K"));
    }
}
