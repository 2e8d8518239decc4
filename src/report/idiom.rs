//! How to read a credential from the environment, in the language of the file the
//! key was found in, so the remediation shows the line to write instead. The same
//! table tells `keyward fix` which language a file is in.

/// The languages `keyward fix` rewrites. A file whose row has none is advised
/// about but never rewritten (a notebook is JSON, a template is two languages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    JavaScript,
    Ruby,
    /// Java, Kotlin: `System.getenv`.
    Jvm,
    Go,
    Php,
    CSharp,
    Shell,
    Terraform,
    Yaml,
    Dockerfile,
}

/// (file endings, language for `keyward fix`, idiom with `{}` for the variable
/// name)
type Row = (&'static [&'static str], Option<Language>, &'static str);

const IDIOMS: &[Row] = &[
    (
        &[".py", ".pyw"],
        Some(Language::Python),
        "os.environ[\"{}\"]",
    ),
    (&[".ipynb"], None, "os.environ[\"{}\"]"),
    (
        &[".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"],
        Some(Language::JavaScript),
        "process.env.{}",
    ),
    (&[".vue", ".svelte"], None, "process.env.{}"),
    (
        &[".rb", ".rake", "Gemfile", "Rakefile"],
        Some(Language::Ruby),
        "ENV[\"{}\"]  (or Rails credentials)",
    ),
    (&[".erb"], None, "ENV[\"{}\"]  (or Rails credentials)"),
    (
        &[".java", ".kt", ".kts"],
        Some(Language::Jvm),
        "System.getenv(\"{}\")",
    ),
    (
        &[".scala", ".groovy", ".gradle"],
        None,
        "System.getenv(\"{}\")",
    ),
    (&[".go"], Some(Language::Go), "os.Getenv(\"{}\")"),
    (&[".php"], Some(Language::Php), "getenv('{}')"),
    (
        &[".cs"],
        Some(Language::CSharp),
        "Environment.GetEnvironmentVariable(\"{}\")",
    ),
    (
        &[".fs", ".vb"],
        None,
        "Environment.GetEnvironmentVariable(\"{}\")",
    ),
    (&[".rs"], None, "std::env::var(\"{}\")"),
    (
        &[".swift"],
        None,
        "ProcessInfo.processInfo.environment[\"{}\"]",
    ),
    (&[".ex", ".exs"], None, "System.fetch_env!(\"{}\")"),
    (&[".c", ".h", ".cc", ".cpp", ".hpp"], None, "getenv(\"{}\")"),
    (&[".sh", ".bash", ".zsh"], Some(Language::Shell), "\"${}\""),
    (&[".envrc"], None, "\"${}\""),
    (&[".ps1"], None, "$env:{}"),
    (
        &[".tf"],
        Some(Language::Terraform),
        "var.{}  (set with TF_VAR_{}, marked sensitive)",
    ),
    (
        &[".tfvars"],
        None,
        "var.{}  (set with TF_VAR_{}, marked sensitive)",
    ),
    (
        &[".yml", ".yaml"],
        Some(Language::Yaml),
        "${{{{ secrets.{} }}}}  (a CI secret, not a value in the file)",
    ),
    (
        &["Dockerfile", ".dockerfile", "Containerfile"],
        Some(Language::Dockerfile),
        "a build secret (RUN --mount=type=secret) or a run-time -e {}, never ENV",
    ),
];

/// The row for a file, by the end of its name.
fn row(path: &str) -> Option<&'static Row> {
    let name = path.rsplit('/').next().unwrap_or(path);
    IDIOMS
        .iter()
        .find(|(ends, _, _)| ends.iter().any(|e| name.ends_with(e)))
}

/// The language `keyward fix` rewrites a file in, if it rewrites that kind.
pub fn language(path: &str) -> Option<Language> {
    row(path).and_then(|(_, language, _)| *language)
}

const FALLBACK: &str = "the environment variable {} or your secrets vault";

/// The idiom for `path`, with the variable name filled in.
pub fn load_from_env(path: &str, var: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let template = if name.starts_with(".env") {
        // A .env file is itself the place for such values: it must stay out of git.
        return format!("keep {var} in an untracked .env file (add it to .gitignore)");
    } else {
        row(path).map_or(FALLBACK, |(_, _, t)| t)
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

    #[test]
    fn languages_the_fix_rewrites() {
        use super::{language, Language};
        assert_eq!(language("a/b.py"), Some(Language::Python));
        assert_eq!(language("docker/Dockerfile"), Some(Language::Dockerfile));
        assert_eq!(language("nb.ipynb"), None);
        assert_eq!(language("main.tf"), Some(Language::Terraform));
        assert_eq!(language("prod.tfvars"), None);
        assert_eq!(language("notes.txt"), None);
    }
}
