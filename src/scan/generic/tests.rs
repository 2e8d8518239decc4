//! The model's parts one at a time: names, values, extraction per shape, place.
//! Values here are fake, written for the test (the corpus test draws random
//! ones at run time).

use super::*;

/// (value, description) of everything found on a line, with its confidence.
fn found(line: &str) -> Vec<(String, String, i32)> {
    let mut out = Vec::new();
    assignments(line.as_bytes(), &mut out);
    url_passwords(line.as_bytes(), &mut out);
    out.into_iter()
        .map(|f| {
            (
                line[f.span.clone()].to_string(),
                f.assessment.describe(),
                f.assessment.confidence,
            )
        })
        .collect()
}

fn one(line: &str) -> (String, String, i32) {
    let f = found(line);
    assert_eq!(f.len(), 1, "{line}: {f:?}");
    f.into_iter().next().unwrap()
}

fn none(line: &str) {
    let f = found(line);
    assert!(f.is_empty(), "{line}: {f:?}");
}

#[test]
fn names_in_every_case_style() {
    use Strength::*;
    for (name, want) in [
        ("DB_PASSWORD", Strong),
        ("dbPassword", Strong),
        ("db-password", Strong),
        ("spring.datasource.password", Strong),
        ("APIKey", Strong),
        ("api_key", Strong),
        ("apikey", Strong),
        ("_authToken", Strong),
        ("SECRET_KEY_BASE", Strong),
        ("LOGGED_IN_SALT", Strong),
        ("RABBITMQ_DEFAULT_PASS", Strong),
        ("storePassword", Strong),
        ("aws_key", Medium),
        ("S3_KEY", Medium),
        ("auth", Medium),
        ("confirmation_tokens", Medium),
        ("LICENSE_CODE", Medium),
        ("DB_PASSWORD_FILE", Not),
        ("token_url", Not),
        ("api_key_header", Not),
        ("secret_key_name", Not),
        ("password_min_length", Not),
        ("cache_key", Not),
        ("public_key", Not),
        ("STRIPE_PUBLISHABLE_KEY", Not),
        ("tokenType", Not),
        ("client_id", Not),
        ("region", None),
        ("username", Not),
    ] {
        assert_eq!(name_strength(name.as_bytes()), want, "{name}");
    }
}

#[test]
fn values_by_shape_not_by_a_length_floor() {
    let shape = |v: &str| value_shape(v.as_bytes(), true);
    assert!(matches!(shape("h7$Kq2p!x"), Shape::Password(b) if b >= 28.0));
    assert!(matches!(shape("Kestrel2019!"), Shape::Password(b) if b >= 28.0));
    // Brackets and colons in a value that is not code or a namespaced name.
    assert!(matches!(shape("Tr0ub4dor:&3"), Shape::Password(_)));
    assert!(matches!(shape("x9(Kq2p!)z"), Shape::Password(_)));
    assert_eq!(
        shape("kCXHf15cScTglpVU0zp5AywjJxHOJ0m/1Vehn6ss"),
        Shape::Random
    );
    assert_eq!(
        shape("3f786850e387550fdab836ed7d6dc881de23001b"),
        Shape::Hex
    );
    assert_eq!(shape("dragon-river-castle"), Shape::Passphrase);
    assert_eq!(shape("d3b07384-d9a0-4c9b-8f1e-2b8e3c4d5f60"), Shape::Uuid);
    for nothing in [
        "changeme",
        "your-api-key-here",
        "${DB_PASSWORD}",
        "{{ .Values.db.password }}",
        "%env(DATABASE_PASSWORD)%",
        "<password>",
        "xxxxxxxx",
        "ENC[AES256_GCM,data:Zm9v,type:str]",
        "vault:secret/data/app#password",
        "ConfirmationTokenService",
        "X-Auth-Token",
        "/run/secrets/db_password",
        "uploads/2021/report.pdf",
        "ops@example.com",
        "2023-10-01",
        "production",
        "settings.STRIPE_API_KEY",
        "API_TOKEN",
        "Password must be at least 12 characters",
        "123e4567-e89b-12d3-a456-426614174000",
        "test-password",
        "password123",
        "urn:uuid:",
        "xlink:href",
        "credential_read()",
        "wwwauth[]",
        "os.getenv(\"DB_PASSWORD\")",
    ] {
        assert_eq!(shape(nothing), Shape::Nothing, "{nothing}");
    }
}

#[test]
fn randomness_against_the_values_own_alphabet() {
    // Lower-case hex is random at 3.7 bits per character; a word is not random
    // however long.
    assert!(random_like(b"9f86d081884c7d659a2feaa0c55ad015"));
    assert!(!random_like(b"ConfirmationTokenService"));
    assert!(!random_like(b"aaaaaaaabbbbbbbbcccccccc"));
    assert!(!random_like(b"the_quick_brown_fox_jumps_over"));
}

#[test]
fn extraction_per_shape() {
    for (line, value) in [
        ("DB_PASSWORD=Kestrel2019!", "Kestrel2019!"),
        (
            "export API_TOKEN=Zr8qWx2LpT5vNc9KbH3m",
            "Zr8qWx2LpT5vNc9KbH3m",
        ),
        ("  password: Tr0ub4dor&3x", "Tr0ub4dor&3x"),
        ("Password=Vq8#mLw2!rT", "Vq8#mLw2!rT"),
        ("spring.mail.password=Qz7!vLm2Rt", "Qz7!vLm2Rt"),
        (
            "ENV SECRET_KEY Zr8qWx2LpT5vNc9KbH3mYd7F",
            "Zr8qWx2LpT5vNc9KbH3mYd7F",
        ),
        ("      - DB_PASSWORD=Kestrel2019!", "Kestrel2019!"),
        (
            "  \"clientSecret\": \"Zr8qWx2LpT5vNc9KbH3mYd7F\",",
            "Zr8qWx2LpT5vNc9KbH3mYd7F",
        ),
        ("define( 'DB_PASSWORD', 'Vq8#mLw2!rTz' );", "Vq8#mLw2!rTz"),
        (
            "config['api_key'] = 'Zr8qWx2LpT5vNc9KbH3mYd7F'",
            "Zr8qWx2LpT5vNc9KbH3mYd7F",
        ),
        (
            "const token = process.env.API_TOKEN || \"Zr8qWx2LpT5vNc9KbH3m\";",
            "Zr8qWx2LpT5vNc9KbH3m",
        ),
        (
            "var pw = Environment.GetEnvironmentVariable(\"DB_PASSWORD\") ?? \"Vq8#mLw2!rTz\";",
            "Vq8#mLw2!rTz",
        ),
        (
            "const secret = isProd ? \"Zr8qWx2LpT5vNc9KbH3m\" : \"local-dev\";",
            "Zr8qWx2LpT5vNc9KbH3m",
        ),
        (
            "DB_PASSWORD = os.getenv(\"DB_PASSWORD\", \"Vq8#mLw2!rTz\")",
            "Vq8#mLw2!rTz",
        ),
        (
            "r = redis.Redis(host=\"cache\", port=6379, password=\"Vq8#mLw2!rTz\")",
            "Vq8#mLw2!rTz",
        ),
        ("const dbPassword string = \"Vq8#mLw2!rTz\"", "Vq8#mLw2!rTz"),
        ("user, pass := \"app\", \"Vq8#mLw2!rTz\"", "Vq8#mLw2!rTz"),
        ("            password \"Vq8#mLw2!rTz\"", "Vq8#mLw2!rTz"),
        (
            "machine files.internal login deploy password Vq8#mLw2!rTz",
            "Vq8#mLw2!rTz",
        ),
        ("      <password>Vq8#mLw2!rTz</password>", "Vq8#mLw2!rTz"),
        (
            "curl -u \"deploy:Vq8#mLw2!rTz\" https://ci.internal/job",
            "Vq8#mLw2!rTz",
        ),
        ("mysql -h db -uapp -p'Vq8#mLw2!rTz' orders", "Vq8#mLw2!rTz"),
        ("sshpass -p 'Vq8#mLw2!rTz' ssh deploy@host", "Vq8#mLw2!rTz"),
        (
            "wget --user=deploy --password=Vq8#mLw2!rTz https://files.internal/x",
            "Vq8#mLw2!rTz",
        ),
        (
            "    proxy_set_header X-Api-Key Zr8qWx2LpT5vNc9KbH3mYd7F;",
            "Zr8qWx2LpT5vNc9KbH3mYd7F",
        ),
        (
            "GH_TOKEN=3f786850e387550fdab836ed7d6dc881de23001b",
            "3f786850e387550fdab836ed7d6dc881de23001b",
        ),
        ("redis://:Vq8mLw2rTz@cache.internal:6379/1", "Vq8mLw2rTz"),
        (
            "https://ci-bot:Zr8qWx2LpT5vNc9KbH3m@git.example.com",
            "Zr8qWx2LpT5vNc9KbH3m",
        ),
    ] {
        assert_eq!(one(line).0, value, "{line}");
    }
}

#[test]
fn quiet_shapes() {
    for line in [
        "        self.confirmation_tokens: \"ConfirmationTokenService\" = ConfirmationTokenService(self._requestor)",
        "  secretKey: string;",
        "  apiKey?: string | null;",
        "  \"token_expired\": \"Your session token has expired. Please sign in again.\",",
        "    password: Passwort",
        "GIT_COMMIT=3f786850e387550fdab836ed7d6dc881de23001b",
        "  checksum = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
        "password = os.environ[\"DB_PASSWORD\"]",
        "const { apiKey } = config;",
        "export SMTP_PASSWORD=\"$(cat /run/secrets/smtp_password)\"",
        "  DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}",
        "password: vault:secret/data/payments#password",
        "homepage: https://deploy@git.example.com/team/app",
        "mysql -u app -p orders",
        "token_id = \"d3b07384-d9a0-4c9b-8f1e-2b8e3c4d5f60\"",
        "stripe_key = \"pk_live_51HciZiCwwAi5HCoyc4OUL66tjEkJJfyuNfPqi\"",
        // A sentence ending in "pass <something>" is not a directive (git.git's
        // commit messages).
        "(non-builtin) merge does not pass t7604.",
        "the scripted merge does not pass t3030.",
        // A file's name is not its contents.
        "secret_key = deploy_2021.pem",
        "Current macOS versions pass t0070-fundamental.sh",
    ] {
        none(line);
    }
}

/// The same last two words still count where the words before them are a
/// directive's, not a sentence's.
#[test]
fn a_trailing_pair_is_a_directive_not_a_sentence() {
    for line in [
        "machine files.internal login deploy password Vq8#mLw2!rTz",
        "machine db login app password Vq8#mLw2!rTz",
        "ENV SECRET_KEY Zr8qWx2LpT5vNc9KbH3mYd7F",
        "  proxy_set_header X-Api-Key Zr8qWx2LpT5vNc9KbH3mYd7F;",
    ] {
        assert_eq!(found(line).len(), 1, "{line}: {:?}", found(line));
    }
}

#[test]
fn severity_follows_confidence() {
    // A strong name over a person's password blocks; a passphrase warns.
    assert!(one("DB_PASSWORD=Kestrel2019!").2 >= BLOCK);
    let (_, _, c) = one("DB_PASSWORD=dragon-river-castle");
    assert!((WARN..BLOCK).contains(&c));
    // A strong value under a weak name warns; a JWT under any name is reported.
    let (_, _, c) = one("upstream_key = \"Zr8qWx2LpT5vNc9KbH3mYd7F\"");
    assert!((WARN..BLOCK).contains(&c));
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    assert!(one(&format!("const cached = \"{jwt}\";")).2 >= WARN);
    assert!(one(&format!("const token = \"{jwt}\";")).2 >= BLOCK);
    // Slow password hashes warn, fast ones block.
    let (_, d, c) = one("admin:$2y$10$abcdefghijklmnopqrstuuJ5f3Q9v2L8mN4pR6sT0wX1yZ3aB5cD7");
    assert!((WARN..BLOCK).contains(&c), "{d}");
    assert!(one("ops:$apr1$Qm3kT8aL$Zr4YcW1vN9pB2xF6hK0sJ.").2 >= BLOCK);
}

#[test]
fn the_report_names_the_value_without_showing_it() {
    let (value, description, _) = one("DB_PASSWORD=Kestrel2019!");
    assert_eq!(description, "DB_PASSWORD = 12-character password");
    assert!(!description.contains(&value[value.len() - 4..]));
    assert_eq!(
        one("API_TOKEN=3f786850e387550fdab836ed7d6dc881de23001b").1,
        "API_TOKEN = 40 hex characters"
    );
}

#[test]
fn the_place_moves_generic_confidence() {
    use crate::rules::Severity::*;
    let at = |confidence: i32, quoted: bool| Assessment {
        name: "DB_PASSWORD".into(),
        kind: Kind::Password,
        length: 12,
        confidence,
        quoted,
    };
    assert_eq!(decide(&at(55, false), b".env"), Some(Block));
    assert_eq!(decide(&at(55, true), b"src/app.py"), Some(Warn));
    assert_eq!(decide(&at(90, true), b"tests/test_auth.py"), Some(Warn));
    assert_eq!(decide(&at(55, true), b"docs/setup.md"), None);
    assert_eq!(decide(&at(90, false), b".env.example"), Some(Warn));
    assert_eq!(decide(&at(80, true), b"vendor/lib/client.py"), Some(Warn));
    // Unquoted in source code is an expression: `salt: Vec<u8>,`.
    assert_eq!(decide(&at(90, false), b"src/crypto.rs"), None);
    assert_eq!(decide(&at(90, false), b"config/app.yml"), Some(Block));
    assert!(place_adjustment(b".github/workflows/deploy.yml") > 0);
    assert!(place_adjustment(b"k8s/secret.yaml") > 0);
}

#[test]
fn work_per_line_is_bounded() {
    // A long line of operators and quotes costs linear time: this finishes.
    let line = "a=\"b\",".repeat(200_000) + &"password=".repeat(100_000);
    let mut out = Vec::new();
    assignments(line.as_bytes(), &mut out);
    url_passwords(line.as_bytes(), &mut out);
    assert!(out.is_empty(), "{} found in operators", out.len());
    // Thousands of JWTs on one line: each found once, in order (a JWT's payload
    // starts with `eyJ` too, and must not be taken for another).
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
    let n = 20_000;
    let line = format!("Authorization: Bearer {}", vec![jwt; n].join(" "));
    let mut out = Vec::new();
    loose_tokens(line.as_bytes(), &mut out);
    assert_eq!(out.len(), n);
    assert!(out.windows(2).all(|w| w[0].span.end < w[1].span.start));
}

#[test]
fn printf_formats_are_templates_not_passwords() {
    assert_eq!(printf_conversions(b"%.*s4%s"), 2);
    assert_eq!(printf_conversions(b"%s:%d"), 2);
    assert_eq!(printf_conversions(b"100%sure"), 1);
    assert_eq!(value_shape(b"%.*s4%s", true), Shape::Nothing);
    assert_eq!(value_shape(b"user:%s@%s", true), Shape::Nothing);
}

/// The bytes `assignments` skips are ones nothing in its loop acts on.
#[test]
fn the_bytes_passed_over_start_nothing() {
    for b in 0..=255u8 {
        if STARTS[usize::from(b)] {
            continue;
        }
        assert!(!is_quote(b), "{b}");
        assert_ne!(b, b'<');
        for line in [
            [b, b'x', b'x'],
            [b'x', b, b'x'],
            [b, b'=', b'>'],
            [b, b':', b'='],
        ] {
            let at = line.iter().position(|&c| c == b).unwrap();
            assert_eq!(operator_at(&line, at), 0, "{b} in {line:?}");
        }
    }
}
