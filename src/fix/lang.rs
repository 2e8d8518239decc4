//! How each language `keyward fix` rewrites reads a value from the environment,
//! as data: which quotes make a whole string literal, the expression that replaces
//! it, the import it may need, and the words that mean the place must hold a
//! constant (where a run-time read does not compile). Which language a file is in
//! comes from the advice table in `report::idiom`, so the two never disagree.

pub use crate::report::idiom::Language;

/// How a key is replaced in one language.
#[derive(Debug)]
pub enum Kind {
    /// The whole string literal becomes an expression.
    Expression {
        /// Quote characters a literal may use.
        quotes: &'static [u8],
        /// Letters that may prefix a literal and go with it (`r"…"`, `@"…"`).
        prefixes: &'static [u8],
        /// Prefixes that make it something else, so it is not replaced (`b"…"`).
        refused_prefixes: &'static [u8],
        /// The expression, with `{}` for the variable name.
        read: &'static str,
        import: Import,
        /// On the key's line (at its start, or after a space), these mean a
        /// constant expression is required there.
        constant_markers: &'static [&'static str],
    },
    /// The key is replaced in place by a shell-style reference, quoted as needed.
    Shell,
    /// The key is replaced in place by the platform's reference (CI secrets,
    /// Compose's `${NAME}`).
    Yaml,
    /// A build secret mounted into the RUN step that uses the key.
    Dockerfile,
    /// `var.name` and a `variable` block marked sensitive.
    Terraform,
}

/// An import an expression needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Import {
    None,
    /// `import os`, after the module docstring and `__future__` imports.
    PythonOs,
    /// `"os"` in the file's import block.
    GoOs,
    /// `System.` in front of the expression unless the file has `using System;`.
    CSharpSystem,
}

pub fn kind(language: Language) -> Kind {
    match language {
        Language::Python => Kind::Expression {
            quotes: b"\"'",
            prefixes: b"rRuUfF",
            refused_prefixes: b"bB",
            read: "os.environ[\"{}\"]",
            import: Import::PythonOs,
            constant_markers: &[],
        },
        Language::JavaScript => Kind::Expression {
            quotes: b"\"'`",
            prefixes: b"",
            refused_prefixes: b"",
            read: "process.env.{}",
            import: Import::None,
            constant_markers: &[],
        },
        Language::Ruby => Kind::Expression {
            quotes: b"\"'",
            prefixes: b"",
            refused_prefixes: b"",
            read: "ENV.fetch(\"{}\")",
            import: Import::None,
            constant_markers: &[],
        },
        Language::Jvm => Kind::Expression {
            quotes: b"\"",
            prefixes: b"",
            refused_prefixes: b"",
            read: "System.getenv(\"{}\")",
            import: Import::None,
            // Kotlin's `const val`, switch labels and annotation arguments.
            constant_markers: &["const ", "case ", "@"],
        },
        Language::Go => Kind::Expression {
            quotes: b"\"`",
            prefixes: b"",
            refused_prefixes: b"",
            read: "os.Getenv(\"{}\")",
            import: Import::GoOs,
            constant_markers: &["const "],
        },
        Language::Php => Kind::Expression {
            quotes: b"'\"",
            prefixes: b"",
            refused_prefixes: b"",
            read: "getenv('{}')",
            import: Import::None,
            // Constants and property defaults must be constant expressions.
            constant_markers: &[
                "const ",
                "public ",
                "private ",
                "protected ",
                "var ",
                "static ",
            ],
        },
        Language::CSharp => Kind::Expression {
            quotes: b"\"",
            prefixes: b"@$",
            refused_prefixes: b"",
            read: "Environment.GetEnvironmentVariable(\"{}\")",
            import: Import::CSharpSystem,
            constant_markers: &["const ", "case ", "["],
        },
        Language::Shell => Kind::Shell,
        Language::Yaml => Kind::Yaml,
        Language::Dockerfile => Kind::Dockerfile,
        Language::Terraform => Kind::Terraform,
    }
}

/// Where a YAML file is read, which decides how it names a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// `.github/workflows/*.yml`: `${{ secrets.NAME }}`.
    GitHubActions,
    /// `.gitlab-ci.yml`: `$NAME`, a CI/CD variable.
    GitLab,
    /// Compose files and other loaders that interpolate `${NAME}`.
    Interpolating,
}

pub fn platform(path: &str) -> Platform {
    let name = path.rsplit('/').next().unwrap_or(path);
    if path.starts_with(".github/workflows/") || path.contains("/.github/workflows/") {
        Platform::GitHubActions
    } else if name == ".gitlab-ci.yml" || name == ".gitlab-ci.yaml" {
        Platform::GitLab
    } else {
        Platform::Interpolating
    }
}
