//! Detection shapes: where a key sits in a file and how it is wrapped (escaped,
//! encoded, split, in a file name, in another text encoding, in an archive), with
//! the decoys that stand next to such keys in real repositories.
//!
//! Every family is a table of templates. A template is a small function that
//! draws a key and writes one file around it; its `Split` says whether detection
//! may be tuned against it. Held-out templates use other languages, wrappers and
//! file kinds than the tuned ones, so the held-out score says whether a fix
//! generalises or only learned the tuned shape.
//!
//! Labels, decided here once for every family:
//! - `Want::Block`: live Stripe keys (`sk_live_`, `rk_live_`, organization keys
//!   without a mode or with `live`), GitHub tokens, and every private key,
//!   encrypted ones included (a passphrase only slows an offline attack down).
//! - `Want::Report`: sandbox keys (`sk_test_`, `rk_test_`, `sk_org_test_`): they
//!   move no money but still open the account's test data.
//! - `Place::Line` is the line of the secret's first byte as committed, or of the
//!   encoded span that holds it; `Place::File` for file names, archives and the
//!   binary-looking file.
//!
//! Private keys come from `openssl` and `ssh-keygen` at generation time (random
//! bodies of the right shape stand in when those commands are missing), so their
//! bytes differ between runs; every line number and label is still the same for
//! a seed.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{line_of, Case, Expect, Place, Rng, Split, Want, BASE62, BASE64};

/// Every detection case of one split.
pub fn cases(seed: u64, split: Split) -> Vec<Case> {
    let mut pems = Pems::new();
    let mut out = Vec::new();
    for (f, family) in FAMILIES.iter().enumerate() {
        let templates: Vec<&Template> = family
            .templates
            .iter()
            .filter(|t| t.split == split)
            .collect();
        // One stream per family and split: a template added to one family does
        // not move any other family's cases.
        let salt = (f as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D)
            ^ if split == Split::HeldOut { 0xA5A5 } else { 0 };
        let mut gen = Gen {
            rng: Rng::new(seed ^ salt),
            turn: 0,
            round: 0,
            pems: &mut pems,
        };
        for i in 0..family.per_split {
            let template = templates[i % templates.len()];
            gen.turn = i;
            gen.round = i / templates.len();
            let made = (template.make)(&mut gen);
            let shape = if made.variant.is_empty() {
                template.shape.to_string()
            } else {
                format!("{}.{}", template.shape, made.variant)
            };
            out.push(Case {
                path: made.path,
                content: made.content,
                family: family.name,
                shape,
                split,
                expect: made.expect,
            });
        }
    }
    out
}

struct Family {
    name: &'static str,
    per_split: usize,
    templates: &'static [Template],
}

const FAMILIES: &[Family] = &[
    Family {
        name: "stripe",
        per_split: 95,
        templates: STRIPE,
    },
    Family {
        name: "pem",
        per_split: 60,
        templates: PEM,
    },
    Family {
        name: "encoded",
        per_split: 60,
        templates: ENCODED,
    },
    Family {
        name: "split",
        per_split: 50,
        templates: SPLIT,
    },
    Family {
        name: "path",
        per_split: 30,
        templates: PATH,
    },
    Family {
        name: "encoding",
        per_split: 30,
        templates: ENCODING,
    },
    Family {
        name: "archive",
        per_split: 30,
        templates: ARCHIVE,
    },
];

struct Template {
    shape: &'static str,
    split: Split,
    make: fn(&mut Gen) -> Out,
}

const fn tune(shape: &'static str, make: fn(&mut Gen) -> Out) -> Template {
    Template {
        shape,
        split: Split::Tune,
        make,
    }
}

const fn held(shape: &'static str, make: fn(&mut Gen) -> Out) -> Template {
    Template {
        shape,
        split: Split::HeldOut,
        make,
    }
}

/// What a template made: one file and where its secrets are.
struct Out {
    path: String,
    content: Vec<u8>,
    expect: Vec<Expect>,
    variant: String,
}

impl Out {
    fn text(path: &str, text: String) -> Out {
        Out::bytes(path, text.into_bytes())
    }

    fn bytes(path: &str, content: Vec<u8>) -> Out {
        Out {
            path: path.to_string(),
            content,
            expect: Vec::new(),
            variant: String::new(),
        }
    }

    /// The key, on the line where its text starts.
    fn at(self, key: &Key) -> Out {
        let kind = key.kind;
        self.line(&key.text, key.want).tag(kind)
    }

    /// A secret on the line where `needle` starts in the content, read as text.
    fn line(self, needle: &str, want: Want) -> Out {
        let text = String::from_utf8(self.content.clone()).expect("a text case is UTF-8");
        self.line_in(&text, needle, want)
    }

    /// As `line`, for content that is `text` in another encoding.
    fn line_in(mut self, text: &str, needle: &str, want: Want) -> Out {
        self.expect.push(Expect {
            place: Place::Line(line_of(text, needle)),
            want,
        });
        self
    }

    fn file(mut self, want: Want) -> Out {
        self.expect.push(Expect {
            place: Place::File,
            want,
        });
        self
    }

    fn tag(mut self, variant: &str) -> Out {
        if !self.variant.is_empty() {
            self.variant.push('.');
        }
        self.variant.push_str(variant);
        self
    }
}

struct Gen<'a> {
    rng: Rng,
    /// Index of the case within its family and split.
    turn: usize,
    /// How many times this case's template has been used before: variants cycle
    /// with it, and key kinds with `turn + round`, so every kind meets every
    /// template whatever the number of templates.
    round: usize,
    pems: &'a mut Pems,
}

impl Gen<'_> {
    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.rng.below(items.len())]
    }

    /// This use's variant of its template, cycling through `n`.
    fn cycle(&self, n: usize) -> usize {
        self.round % n
    }

    fn stripe(&mut self) -> Key {
        let kind = &STRIPE_KINDS[(self.turn + self.round) % STRIPE_KINDS.len()];
        stripe_key(&mut self.rng, kind)
    }

    /// A live key (`sk_live_`, `rk_live_`, `sk_org_live_`), for shapes where a
    /// sandbox key would be an odd thing to hide.
    fn stripe_live(&mut self) -> Key {
        let kind = &STRIPE_KINDS[self.round % 3];
        stripe_key(&mut self.rng, kind)
    }

    fn pk(&mut self) -> String {
        let mode = if self.rng.chance(1, 2) {
            "live"
        } else {
            "test"
        };
        format!("pk_{mode}_51{}", self.rng.base62(97))
    }

    /// A word ending in `sk_`/`rk_` then a mode and an id: an identifier that
    /// merely contains a key prefix, with an id as random as a key body.
    fn lookalike(&mut self) -> String {
        let word = self.pick(LOOKALIKE_WORDS);
        let mode = if self.rng.chance(1, 2) {
            "live"
        } else {
            "test"
        };
        format!("{word}_{mode}_{}", self.rng.base62(24))
    }

    fn placeholder(&mut self) -> &'static str {
        self.pick(PLACEHOLDERS)
    }
}

// ---------------------------------------------------------------- key shapes

struct Key {
    text: String,
    want: Want,
    kind: &'static str,
}

struct KeyKind {
    prefix: &'static str,
    name: &'static str,
    want: Want,
    /// Issued with a 24-character body before Stripe lengthened keys.
    legacy: bool,
}

/// Stripe documents organization keys only as "prefixed `sk_org`", in live mode
/// and sandboxes, with no `rk_org`; code that handles them branches on
/// `sk_org_live_` and `sk_org_test_`. Both spellings are here, with the body
/// length of today's account keys.
const STRIPE_KINDS: &[KeyKind] = &[
    KeyKind {
        prefix: "sk_live_",
        name: "sk_live",
        want: Want::Block,
        legacy: true,
    },
    KeyKind {
        prefix: "rk_live_",
        name: "rk_live",
        want: Want::Block,
        legacy: true,
    },
    KeyKind {
        prefix: "sk_org_live_",
        name: "sk_org_live",
        want: Want::Block,
        legacy: false,
    },
    KeyKind {
        prefix: "sk_test_",
        name: "sk_test",
        want: Want::Report,
        legacy: true,
    },
    KeyKind {
        prefix: "rk_test_",
        name: "rk_test",
        want: Want::Report,
        legacy: true,
    },
    KeyKind {
        prefix: "sk_org_",
        name: "sk_org",
        want: Want::Block,
        legacy: false,
    },
    KeyKind {
        prefix: "sk_org_test_",
        name: "sk_org_test",
        want: Want::Report,
        legacy: false,
    },
];

fn stripe_key(rng: &mut Rng, kind: &KeyKind) -> Key {
    // Today's keys: 99 base62 characters, the account's own keys starting `51`.
    let body = if kind.legacy && rng.chance(1, 3) {
        rng.base62(24)
    } else if kind.legacy {
        format!("51{}", rng.base62(97))
    } else {
        rng.base62(99)
    };
    Key {
        text: format!("{}{body}", kind.prefix),
        want: kind.want,
        kind: kind.name,
    }
}

/// A classic GitHub token: 30 random characters and the CRC-32 of them in base62.
fn github_token(rng: &mut Rng) -> Key {
    let body = rng.base62(30);
    let mut check = crc32(body.as_bytes());
    let mut tail = [b'0'; 6];
    for slot in tail.iter_mut().rev() {
        *slot = BASE62[(check % 62) as usize];
        check /= 62;
    }
    Key {
        text: format!("ghp_{body}{}", String::from_utf8_lossy(&tail)),
        want: Want::Block,
        kind: "ghp",
    }
}

const LOOKALIKE_WORDS: &[&str] = &[
    "risk",
    "disk",
    "task",
    "desk",
    "mask",
    "kiosk",
    "flask",
    "bookmark",
    "network",
    "benchmark",
    "framework",
    "landmark",
    "spark",
    "clerk",
];

const PLACEHOLDERS: &[&str] = &[
    "sk_live_...",
    "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "sk_live_<your key>",
    "sk_live_XXXXXXXXXXXXXXXXXXXXXXXX",
    "sk_test_YOUR_SECRET_KEY",
    "rk_live_************************",
    "sk_live_…4242",
    "sk_org_live_...",
    "sk_test_0000000000000000000000000",
    "rk_live_<restricted key>",
];

/// Replaces every `{NAME}` in `template`; templates are written as the file
/// they make, without format-string brace doubling.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut text = template.to_string();
    for (name, value) in vars {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

// ---------------------------------------------------------------- stripe

const STRIPE: &[Template] = &[
    tune("py-module", stripe_py),
    tune("js-require", stripe_js),
    tune("dotenv", stripe_env),
    tune("yaml-config", stripe_yaml),
    tune("ruby-initializer", stripe_ruby),
    tune("json-settings", stripe_json),
    tune("sh-export", stripe_sh),
    tune("escaped", stripe_escaped_tune),
    tune("neg-lookalike-py", stripe_neg_lookalike_py),
    tune("neg-publishable-js", stripe_neg_publishable),
    tune("neg-placeholder-env", stripe_neg_placeholder_env),
    tune("neg-regex-py", stripe_neg_regex_py),
    held("go-client", stripe_go),
    held("java-static", stripe_java),
    held("php-setkey", stripe_php),
    held("curl-runbook", stripe_curl),
    held("escaped", stripe_escaped_held),
    held("neg-lookalike-java", stripe_neg_lookalike_java),
    held("neg-docs-md", stripe_neg_docs),
];

fn stripe_py(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let path = g.pick(&[
        "billing/stripe_client.py",
        "app/payments/config.py",
        "scripts/backfill_charges.py",
    ]);
    let text = fill(
        r##"import os

import stripe

from .models import Invoice

STRIPE_PUBLISHABLE_KEY = "{PK}"
RISK_LIVE_THRESHOLD = 0.75

stripe.api_key = "{KEY}"
stripe.api_version = "2024-06-20"


def charge(invoice: Invoice) -> str:
    intent = stripe.PaymentIntent.create(
        amount=invoice.total_cents,
        currency=invoice.currency,
        metadata={"invoice": invoice.id},
    )
    return intent.id
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text(path, text).at(&key)
}

fn stripe_js(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let path = g.pick(&[
        "server/routes/checkout.js",
        "api/payments.js",
        "src/stripe.js",
    ]);
    let text = fill(
        r##"'use strict';

const express = require('express');
const stripe = require('stripe')('{KEY}');

const router = express.Router();
const PUBLISHABLE = '{PK}';

router.post('/checkout', async (req, res) => {
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: req.body.items,
    success_url: `${process.env.APP_URL}/thanks`,
  });
  res.json({ id: session.id, publishableKey: PUBLISHABLE });
});

module.exports = router;
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text(path, text).at(&key)
}

fn stripe_env(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let path = g.pick(&[".env", ".env.production", "deploy/.env.local"]);
    let text = fill(
        r##"# Local overrides -- do not commit
APP_ENV=production
DATABASE_URL=postgres://app@db.internal:5432/app
STRIPE_PUBLISHABLE_KEY={PK}
STRIPE_SECRET_KEY={KEY}
STRIPE_WEBHOOK_TOLERANCE=300
RISK_TEST_MODE=false
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text(path, text).at(&key)
}

fn stripe_yaml(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let path = g.pick(&["config/settings.yml", "config/payments.yaml", "app.yaml"]);
    let text = fill(
        r##"server:
  port: 8080
  log_level: info
payments:
  provider: stripe
  stripe:
    publishable_key: {PK}
    secret_key: {KEY}
    api_version: "2024-06-20"
  retries: 3
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text(path, text).at(&key)
}

fn stripe_ruby(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let text = fill(
        r##"# frozen_string_literal: true

Rails.configuration.stripe = {
  publishable_key: ENV.fetch('STRIPE_PUBLISHABLE_KEY', '{PK}'),
  secret_key: ENV.fetch('STRIPE_SECRET_KEY', '{KEY}')
}

Stripe.api_key = Rails.configuration.stripe[:secret_key]
Stripe.max_network_retries = 2
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text("config/initializers/stripe.rb", text).at(&key)
}

fn stripe_json(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let path = g.pick(&[
        "config/stripe.json",
        "appsettings.Production.json",
        "secrets.json",
    ]);
    let text = fill(
        r##"{
  "name": "checkout-service",
  "stripe": {
    "publishableKey": "{PK}",
    "secretKey": "{KEY}",
    "webhookTolerance": 300
  },
  "featureFlags": ["fast-refunds"]
}
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text(path, text).at(&key)
}

fn stripe_sh(g: &mut Gen) -> Out {
    let key = g.stripe();
    let path = g.pick(&["scripts/deploy.sh", "bin/setup-env", "ci/release.sh"]);
    let text = fill(
        r##"#!/usr/bin/env bash
set -euo pipefail

export APP_ENV=production
export STRIPE_SECRET_KEY="{KEY}"
export RISK_LIVE_CHECKS=1

exec ./bin/server --port "${PORT:-8080}"
"##,
        &[("KEY", &key.text)],
    );
    Out::text(path, text).at(&key)
}

/// Escapes that end right before the prefix, so the character before `sk_` is a
/// letter or digit and a word boundary does not hold there.
fn stripe_escaped_tune(g: &mut Gen) -> Out {
    let key = g.stripe();
    let (name, path, template) = match g.cycle(4) {
        0 => (
            "newline",
            "notebooks/rotate_keys.ipynb",
            r##"{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": 3,
   "metadata": {},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "created key:\n{KEY}\n"
     ]
    }
   ],
   "source": [
    "key = client.create_key(name=\"billing\")\n",
    "print(\"created key:\")\n",
    "print(key.secret)"
   ]
  }
 ],
 "nbformat": 4,
 "nbformat_minor": 5
}
"##,
        ),
        1 => (
            "pct22",
            "logs/access.log",
            r##"10.0.3.7 - - [12/Mar/2025:10:14:02 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"
10.0.3.9 - - [12/Mar/2025:10:14:05 +0000] "GET /debug/config?state=%7B%22mode%22%3A%22live%22%2C%22key%22%3A%22{KEY}%22%7D HTTP/1.1" 200 512 "-" "curl/8.5.0"
10.0.3.7 - - [12/Mar/2025:10:14:12 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"
"##,
        ),
        2 => (
            "u0022",
            "appsettings.json",
            r##"{
  "Logging": { "LogLevel": { "Default": "Information" } },
  "Payments": "{\u0022Provider\u0022:\u0022stripe\u0022,\u0022ApiKey\u0022:\u0022{KEY}\u0022}",
  "AllowedHosts": "*"
}
"##,
        ),
        _ => (
            "quot",
            "templates/checkout.html",
            r##"<!doctype html>
<html lang="en">
<body>
  <main>
    <div id="checkout"
         data-config="{&quot;secretKey&quot;:&quot;{KEY}&quot;,&quot;currency&quot;:&quot;eur&quot;}">
    </div>
  </main>
  <script src="/static/checkout.js"></script>
</body>
</html>
"##,
        ),
    };
    let text = fill(template, &[("KEY", &key.text)]);
    Out::text(path, text).at(&key).tag(name)
}

fn stripe_escaped_held(g: &mut Gen) -> Out {
    let key = g.stripe();
    let (name, path, template) = match g.cycle(4) {
        0 => (
            "tab",
            "internal/keys/parse_test.go",
            r##"package keys

import "testing"

func TestParseLine(t *testing.T) {
	line := "prod\t{KEY}\tactive"
	if _, err := ParseLine(line); err != nil {
		t.Fatal(err)
	}
}
"##,
        ),
        1 => (
            "pct3d",
            "fixtures/checkout.har",
            r##"{
  "log": {
    "entries": [
      {
        "request": {
          "method": "POST",
          "url": "https://billing.internal/api/forward",
          "postData": {
            "mimeType": "application/x-www-form-urlencoded",
            "text": "payload=api_key%3D{KEY}%26mode%3Dlive"
          }
        }
      }
    ]
  }
}
"##,
        ),
        2 => (
            "x22",
            "src/bootstrap.py",
            r##"import json

RAW = '{\x22provider\x22: \x22stripe\x22, \x22key\x22: \x22{KEY}\x22}'
CONFIG = json.loads(RAW)
"##,
        ),
        _ => (
            "quot-xml",
            "src/main/resources/web.xml",
            r##"<?xml version="1.0" encoding="UTF-8"?>
<web-app>
  <context-param>
    <param-name>payments</param-name>
    <param-value>{&quot;key&quot;:&quot;{KEY}&quot;}</param-value>
  </context-param>
</web-app>
"##,
        ),
    };
    let text = fill(template, &[("KEY", &key.text)]);
    Out::text(path, text).at(&key).tag(name)
}

fn stripe_go(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let text = fill(
        r##"package billing

import (
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

const publishableKey = "{PK}"

// NewClient returns the client the workers share.
func NewClient() *client.API {
	stripe.DefaultLeveledLogger = nil
	sc := &client.API{}
	sc.Init("{KEY}", nil)
	return sc
}
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text("internal/billing/client.go", text).at(&key)
}

fn stripe_java(g: &mut Gen) -> Out {
    let key = g.stripe();
    let text = fill(
        r##"package com.example.billing;

import com.stripe.Stripe;

public final class StripeConfig {
    private static final int MAX_RETRIES = 2;

    private StripeConfig() {}

    public static void init() {
        Stripe.apiKey = "{KEY}";
        Stripe.setMaxNetworkRetries(MAX_RETRIES);
    }
}
"##,
        &[("KEY", &key.text)],
    );
    Out::text("src/main/java/com/example/billing/StripeConfig.java", text).at(&key)
}

fn stripe_php(g: &mut Gen) -> Out {
    let key = g.stripe();
    let pk = g.pk();
    let text = fill(
        r##"<?php

require_once __DIR__ . '/../vendor/autoload.php';

\Stripe\Stripe::setApiKey('{KEY}');
$publishable = '{PK}';

$session = \Stripe\Checkout\Session::create([
    'mode' => 'payment',
    'success_url' => 'https://shop.example.com/ok',
]);
"##,
        &[("KEY", &key.text), ("PK", &pk)],
    );
    Out::text("public/checkout.php", text).at(&key)
}

fn stripe_curl(g: &mut Gen) -> Out {
    let key = g.stripe();
    let text = fill(
        r##"# Refund runbook

1. Find the charge in the dashboard.
2. Refund it from a shell:

```sh
curl https://api.stripe.com/v1/refunds \
  -u {KEY}: \
  -d charge=ch_3PqRsT2eZvKYlo2C0x8Ab1cD
```

3. Note the refund id in the ticket.
"##,
        &[("KEY", &key.text)],
    );
    Out::text("docs/runbooks/refund.md", text).at(&key)
}

fn stripe_neg_lookalike_py(g: &mut Gen) -> Out {
    let (a, b, c) = (g.lookalike(), g.lookalike(), g.lookalike());
    let text = fill(
        r##"# Feature-store keys are "<model>_<mode>_<id>" and carry no credential.
FEATURE_KEYS = {
    "primary": "{A}",
    "fallback": "{B}",
}


def cache_key(model: str) -> str:
    return f"{model}:{C}"
"##,
        &[("A", &a), ("B", &b), ("C", &c)],
    );
    Out::text("ml/features/keys.py", text)
}

fn stripe_neg_publishable(g: &mut Gen) -> Out {
    let (live, test) = (
        format!("pk_live_51{}", g.rng.base62(97)),
        format!("pk_test_51{}", g.rng.base62(97)),
    );
    let text = fill(
        r##"import { loadStripe } from '@stripe/stripe-js';

// Publishable keys identify the account to Stripe.js; they are meant to ship.
const KEY = import.meta.env.PROD
  ? '{LIVE}'
  : '{TEST}';

export const stripePromise = loadStripe(KEY);
"##,
        &[("LIVE", &live), ("TEST", &test)],
    );
    Out::text("web/src/lib/stripe.ts", text)
}

fn stripe_neg_placeholder_env(g: &mut Gen) -> Out {
    let (a, b) = (g.placeholder(), g.placeholder());
    let ident = g.lookalike();
    let text = fill(
        r##"# Copy to .env and fill in. Never commit the real values.
STRIPE_SECRET_KEY={A}
STRIPE_RESTRICTED_KEY={B}
STRIPE_SECRET_KEY_FROM_VAULT=${STRIPE_SECRET_KEY}
REPORT_TABLE={ID}
"##,
        &[("A", a), ("B", b), ("ID", &ident)],
    );
    Out::text(".env.example", text)
}

fn stripe_neg_regex_py(g: &mut Gen) -> Out {
    let ident = g.lookalike();
    let text = fill(
        r##"import re

# Refuse to log anything shaped like a secret key.
SECRET_KEY_RE = re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{24,247}\b")
ORG_KEY_RE = re.compile(r"sk_org_(?:live_|test_)?[0-9a-zA-Z]{24,}")
AUDIT_TABLE = "{ID}"


def scrub(line: str) -> str:
    return ORG_KEY_RE.sub("[key]", SECRET_KEY_RE.sub("[key]", line))
"##,
        &[("ID", &ident)],
    );
    Out::text("app/logging/scrub.py", text)
}

fn stripe_neg_lookalike_java(g: &mut Gen) -> Out {
    let (a, b) = (g.lookalike(), g.lookalike());
    let pk = g.pk();
    let text = fill(
        r##"package com.example.storage;

final class Buckets {
    static final String PRIMARY = "{A}";
    static final String REPLICA = "{B}";
    static final String STRIPE_PUBLISHABLE = "{PK}";

    private Buckets() {}
}
"##,
        &[("A", &a), ("B", &b), ("PK", &pk)],
    );
    Out::text("src/main/java/com/example/storage/Buckets.java", text)
}

fn stripe_neg_docs(g: &mut Gen) -> Out {
    let (a, b) = (g.placeholder(), g.placeholder());
    let text = fill(
        r##"# Configuration

Set `STRIPE_SECRET_KEY` to a key from the dashboard (`{A}` in live mode).
Restricted keys such as `{B}` work too. Organization keys (`sk_org_…`) need a
`Stripe-Context` header as well.

Keys match `(sk|rk)_(live|test)_[A-Za-z0-9]{24,}`; publishable keys (`pk_live_`)
are not secrets.
"##,
        &[("A", a), ("B", b)],
    );
    Out::text("docs/configuration.md", text)
}

// ---------------------------------------------------------------- pem

#[derive(Clone, Copy)]
enum PemKind {
    Rsa,
    Ec,
    Pkcs8Ed25519,
    Pkcs8Rsa,
    OpenSsh,
    EncryptedPkcs8,
    ProcType,
}

const PEM_KINDS: &[PemKind] = &[
    PemKind::Rsa,
    PemKind::Ec,
    PemKind::Pkcs8Ed25519,
    PemKind::OpenSsh,
    PemKind::EncryptedPkcs8,
    PemKind::Pkcs8Rsa,
    PemKind::ProcType,
];

impl PemKind {
    fn name(self) -> &'static str {
        match self {
            PemKind::Rsa => "rsa",
            PemKind::Ec => "ec",
            PemKind::Pkcs8Ed25519 => "pkcs8-ed25519",
            PemKind::Pkcs8Rsa => "pkcs8-rsa",
            PemKind::OpenSsh => "openssh",
            PemKind::EncryptedPkcs8 => "encrypted-pkcs8",
            PemKind::ProcType => "proc-type",
        }
    }

    fn label(self) -> &'static str {
        match self {
            PemKind::Rsa | PemKind::ProcType => "RSA PRIVATE KEY",
            PemKind::Ec => "EC PRIVATE KEY",
            PemKind::Pkcs8Ed25519 | PemKind::Pkcs8Rsa => "PRIVATE KEY",
            PemKind::OpenSsh => "OPENSSH PRIVATE KEY",
            PemKind::EncryptedPkcs8 => "ENCRYPTED PRIVATE KEY",
        }
    }
}

/// A private key from this turn's kind: its PEM text (LF line ends, final
/// newline) and its header line, which is where a finding is expected.
struct Pem {
    text: String,
    header: String,
    kind: &'static str,
}

impl Gen<'_> {
    fn private_key(&mut self) -> Pem {
        let kind = PEM_KINDS[(self.turn + self.round) % PEM_KINDS.len()];
        self.private_key_of(kind)
    }

    fn private_key_of(&mut self, kind: PemKind) -> Pem {
        let text = self.pems.private(&mut self.rng, kind);
        let header = text.lines().next().unwrap_or_default().to_string();
        Pem {
            text,
            header,
            kind: kind.name(),
        }
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// One line with `\n` escapes, as JSON and most string literals write it.
fn escaped(text: &str) -> String {
    text.replace('\n', "\\n")
}

const PEM: &[Template] = &[
    tune("plain-file", pem_plain),
    tune("yaml-block", pem_yaml_block),
    tune("sh-heredoc", pem_heredoc),
    tune("gcp-json", pem_gcp_json),
    tune("js-escaped", pem_js_escaped),
    tune("crlf-file", pem_crlf),
    tune("neg-public", pem_neg_public),
    tune("neg-docs-example", pem_neg_docs),
    held("tf-heredoc", pem_terraform),
    held("helm-values", pem_helm),
    held("dotenv-escaped", pem_env_escaped),
    held("go-escaped", pem_go_escaped),
    held("trailing-spaces", pem_trailing_spaces),
    held("neg-cert-json", pem_neg_cert_json),
    held("neg-code-header", pem_neg_code),
];

fn pem_expect(out: Out, text: &str, pem: &Pem) -> Out {
    out.line_in(text, &pem.header, Want::Block).tag(pem.kind)
}

fn pem_plain(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let path = match pem.kind {
        "openssh" => g.pick(&["deploy/id_ed25519", ".ssh/deploy_key"]),
        "pkcs8-ed25519" | "pkcs8-rsa" => g.pick(&["config/jwt/private.pem", "keys/signing.pem"]),
        _ => g.pick(&["certs/server.key", "deploy/id_rsa", "ssl/app.key"]),
    };
    let text = pem.text.clone();
    pem_expect(Out::text(path, text.clone()), &text, &pem)
}

fn pem_crlf(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!("# exported from the old build box\n{}", pem.text).replace('\n', "\r\n");
    let path = g.pick(&["infra/keys/legacy.pem", "certs/windows-agent.key"]);
    pem_expect(Out::text(path, text.clone()), &text, &pem)
}

fn pem_yaml_block(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ingress-tls\n  namespace: web\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n    -----BEGIN CERTIFICATE-----\n    MIIBszCCAVmgAwIBAgIUQ2Zr\n    -----END CERTIFICATE-----\n  tls.key: |\n{}",
        indent(&pem.text, "    ")
    );
    pem_expect(Out::text("k8s/ingress-tls.yaml", text.clone()), &text, &pem)
}

fn pem_heredoc(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!(
        "#!/bin/sh\nset -e\n\ninstall -d -m 700 /etc/ssl/private\ncat > /etc/ssl/private/app.key <<'EOF'\n{}EOF\nchmod 600 /etc/ssl/private/app.key\nsystemctl reload nginx\n",
        pem.text
    );
    pem_expect(Out::text("provision/tls.sh", text.clone()), &text, &pem)
}

fn pem_gcp_json(g: &mut Gen) -> Out {
    let pem = g.private_key_of(PemKind::Pkcs8Rsa);
    let project = format!(
        "billing-{}",
        g.rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789", 6)
    );
    let text = format!(
        r##"{{
  "type": "service_account",
  "project_id": "{project}",
  "private_key_id": "{kid}",
  "private_key": "{key}",
  "client_email": "exporter@{project}.iam.gserviceaccount.com",
  "client_id": "{cid}",
  "auth_uri": "https://accounts.google.com/o/oauth2/auth",
  "token_uri": "https://oauth2.googleapis.com/token"
}}
"##,
        kid = g.rng.hex(40),
        key = escaped(&pem.text),
        cid = g.rng.string(b"0123456789", 21),
    );
    let path = g.pick(&["gcp-credentials.json", "secrets/service-account.json"]);
    pem_expect(Out::text(path, text.clone()), &text, &pem)
}

fn pem_js_escaped(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!(
        "import jwt from 'jsonwebtoken';\n\nconst PRIVATE_KEY = \"{}\";\n\nexport function sign(claims) {{\n  return jwt.sign(claims, PRIVATE_KEY, {{ algorithm: 'RS256', expiresIn: '1h' }});\n}}\n",
        escaped(&pem.text)
    );
    pem_expect(Out::text("src/auth/sign.js", text.clone()), &text, &pem)
}

fn pem_terraform(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!(
        "resource \"tls_locally_signed_cert\" \"api\" {{\n  cert_request_pem = file(\"api.csr\")\n\n  ca_private_key_pem = <<-EOT\n{}  EOT\n\n  validity_period_hours = 8760\n}}\n",
        indent(&pem.text, "    ")
    );
    pem_expect(Out::text("infra/tls.tf", text.clone()), &text, &pem)
}

fn pem_helm(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!(
        "replicaCount: 2\nimage:\n  repository: registry.example.com/gateway\n  tag: \"1.8.2\"\ngateway:\n  auth:\n    jwt:\n      issuer: https://auth.example.com\n      privateKey: |-\n{}    audience: api\n",
        indent(&pem.text, "        ")
    );
    pem_expect(
        Out::text("charts/gateway/values.yaml", text.clone()),
        &text,
        &pem,
    )
}

fn pem_env_escaped(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!(
        "NODE_ENV=production\nJWT_ISSUER=https://auth.example.com\nJWT_PRIVATE_KEY=\"{}\"\nJWT_TTL=3600\n",
        escaped(&pem.text)
    );
    pem_expect(Out::text(".env.production", text.clone()), &text, &pem)
}

fn pem_go_escaped(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text = format!(
        "package signer\n\n// testKey signs the fixtures.\nconst testKey = \"{}\"\n\nfunc Key() []byte {{ return []byte(testKey) }}\n",
        escaped(&pem.text)
    );
    pem_expect(
        Out::text("internal/signer/key.go", text.clone()),
        &text,
        &pem,
    )
}

fn pem_trailing_spaces(g: &mut Gen) -> Out {
    let pem = g.private_key();
    let text: String = format!("Deploy key for the build agents:\n\n{}", pem.text)
        .lines()
        .map(|l| format!("{l}   \n"))
        .collect();
    pem_expect(Out::text("notes/deploy-key.txt", text.clone()), &text, &pem)
}

fn pem_neg_public(g: &mut Gen) -> Out {
    if g.cycle(2) == 0 {
        let public = g.pems.public(&mut g.rng);
        Out::text(
            g.pick(&["keys/public.pem", "config/jwt/public.pem"]),
            public,
        )
        .tag("public")
    } else {
        let cert = g.pems.certificate(&mut g.rng);
        Out::text(g.pick(&["certs/server.crt", "tls/ca.pem"]), cert).tag("certificate")
    }
}

fn pem_neg_docs(_g: &mut Gen) -> Out {
    let text = r##"# Deploy keys

Paste the whole key file, starting with `-----BEGIN OPENSSH PRIVATE KEY-----`,
into the CI secret `DEPLOY_KEY`. An RSA key looks like this:

```
-----BEGIN RSA PRIVATE KEY-----
...
-----END RSA PRIVATE KEY-----
```

Never commit the file itself; `*.pem` and `id_*` are in `.gitignore`.
"##;
    Out::text("docs/deploy-keys.md", text.to_string())
}

fn pem_neg_cert_json(g: &mut Gen) -> Out {
    let cert = g.pems.certificate(&mut g.rng);
    let text = format!(
        "{{\n  \"domain\": \"api.example.com\",\n  \"certificate\": \"{}\",\n  \"renewBefore\": \"720h\"\n}}\n",
        escaped(&cert)
    );
    Out::text("config/tls.json", text)
}

fn pem_neg_code(g: &mut Gen) -> Out {
    let ssh_public = g.pems.ssh_public(&mut g.rng);
    let text = format!(
        r##"PRIVATE_HEADERS = (
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
)
AUTHORIZED = "{ssh_public}"


def looks_private(text: str) -> bool:
    return text.lstrip().startswith(PRIVATE_HEADERS)
"##
    );
    Out::text("tools/keycheck.py", text)
}

// ---------------------------------------------------------------- encoded

const ENCODED: &[Template] = &[
    tune("k8s-secret-base64", enc_k8s),
    tune("basic-auth", enc_basic_auth),
    tune("percent-all", enc_percent_all),
    tune("json-unicode-all", enc_unicode_all),
    tune("html-decimal", enc_html_decimal),
    tune("base64-json-blob", enc_base64_blob),
    tune("neg-base64-plain", enc_neg_base64),
    tune("neg-percent-url", enc_neg_percent),
    held("docker-auth", enc_docker_auth),
    held("html-hex", enc_html_hex),
    held("yaml-base64-blob", enc_yaml_blob),
    held("js-unicode-underscore", enc_unicode_underscore),
    held("neg-base64-image", enc_neg_image),
];

fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn percent_all(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "%{b:02X}");
        out
    })
}

fn unicode_all(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "\\u{b:04x}");
        out
    })
}

fn html_decimal(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "&#{b};");
        out
    })
}

fn html_hex(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "&#x{b:x};");
        out
    })
}

fn enc_k8s(g: &mut Gen) -> Out {
    let key = g.stripe();
    let encoded = base64(key.text.as_bytes());
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: billing\n  namespace: payments\ntype: Opaque\ndata:\n  DB_HOST: {}\n  DB_USER: {}\n  STRIPE_SECRET_KEY: {encoded}\n  LOG_LEVEL: {}\n",
        base64(b"postgres.payments.svc"),
        base64(b"billing"),
        base64(b"info"),
    );
    Out::text("k8s/billing-secret.yaml", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_basic_auth(g: &mut Gen) -> Out {
    let key = g.stripe();
    // Stripe takes the key as the basic-auth user name with an empty password.
    let encoded = base64(format!("{}:", key.text).as_bytes());
    let text = format!(
        "import requests\n\nHEADERS = {{\n    \"Authorization\": \"Basic {encoded}\",\n    \"Stripe-Version\": \"2024-06-20\",\n}}\n\n\ndef balance():\n    return requests.get(\"https://api.stripe.com/v1/balance\", headers=HEADERS, timeout=10).json()\n"
    );
    Out::text("tools/balance.py", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_percent_all(g: &mut Gen) -> Out {
    let key = g.stripe();
    let encoded = percent_all(&key.text);
    let text = format!(
        "[webhook]\nurl = https://hooks.example.com/forward?target=billing&token={encoded}&retry=3\ntimeout = 10\n"
    );
    Out::text("conf/forwarder.ini", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_unicode_all(g: &mut Gen) -> Out {
    let key = g.stripe();
    let encoded = unicode_all(&key.text);
    let text = format!(
        "{{\n  \"service\": \"checkout\",\n  \"apiKey\": \"{encoded}\",\n  \"region\": \"eu-west-1\"\n}}\n"
    );
    Out::text("config/checkout.json", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_html_decimal(g: &mut Gen) -> Out {
    let key = g.stripe();
    let encoded = html_decimal(&key.text);
    let text = format!(
        "<!doctype html>\n<html>\n<head>\n  <meta charset=\"utf-8\">\n  <meta name=\"billing-key\" content=\"{encoded}\">\n</head>\n<body><div id=\"app\"></div></body>\n</html>\n"
    );
    Out::text("public/admin.html", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_base64_blob(g: &mut Gen) -> Out {
    let key = g.stripe();
    let config = format!(
        "{{\"service\":\"billing\",\"region\":\"eu-west-1\",\"stripe\":{{\"secret_key\":\"{}\",\"webhook_tolerance\":300}},\"features\":[\"refunds\",\"disputes\"]}}",
        key.text
    );
    let encoded = base64(config.as_bytes());
    let text = format!(
        "{{\n  \"name\": \"billing\",\n  \"version\": 7,\n  \"config\": \"{encoded}\"\n}}\n"
    );
    Out::text("deploy/billing.snapshot.json", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_docker_auth(g: &mut Gen) -> Out {
    let token = github_token(&mut g.rng);
    let encoded = base64(format!("ci-bot:{}", token.text).as_bytes());
    let text = format!(
        "{{\n  \"auths\": {{\n    \"ghcr.io\": {{\n      \"auth\": \"{encoded}\"\n    }}\n  }},\n  \"credsStore\": \"\"\n}}\n"
    );
    Out::text(".docker/config.json", text)
        .line(&encoded, token.want)
        .tag(token.kind)
}

fn enc_html_hex(g: &mut Gen) -> Out {
    let key = g.stripe();
    let encoded = html_hex(&key.text);
    let text = format!(
        "<?xml version=\"1.0\"?>\n<settings>\n  <payment provider=\"stripe\">\n    <key>{encoded}</key>\n  </payment>\n</settings>\n"
    );
    Out::text("config/settings.xml", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_yaml_blob(g: &mut Gen) -> Out {
    let key = g.stripe();
    let env = format!(
        "APP_ENV=production\nSTRIPE_SECRET_KEY={}\nSENTRY_ENVIRONMENT=prod\n",
        key.text
    );
    let encoded = base64(env.as_bytes());
    let text = format!(
        "workers:\n  billing:\n    replicas: 3\n    envFileBase64: {encoded}\n    resources:\n      cpu: 500m\n"
    );
    Out::text("helm/workers/values-prod.yaml", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_unicode_underscore(g: &mut Gen) -> Out {
    let key = g.stripe();
    // A JSON serialiser that escapes `_` leaves the rest of the key as it is.
    let encoded = key.text.replace('_', "\\u005f");
    let text = format!(
        "// generated by config-bundler; do not edit\nexport default JSON.parse(\"{{\\\"billingKey\\\":\\\"{encoded}\\\"}}\");\n"
    );
    Out::text("src/generated/config.js", text)
        .line(&encoded, key.want)
        .tag(key.kind)
}

fn enc_neg_base64(g: &mut Gen) -> Out {
    let pk = g.pk();
    let ident = g.lookalike();
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\nbinaryData:\n  motd: {}\n  publishable: {}\n  table: {}\n",
        base64(b"Welcome to the staging cluster. Maintenance window: Sundays 02:00-04:00 UTC."),
        base64(pk.as_bytes()),
        base64(ident.as_bytes()),
    );
    Out::text("k8s/web-configmap.yaml", text)
}

fn enc_neg_percent(g: &mut Gen) -> Out {
    let ident = g.lookalike();
    let text = format!(
        "LOGIN_REDIRECT=https://auth.example.com/authorize?redirect_uri={}&state={}\n",
        percent_all("https://app.example.com/callback?next=/billing"),
        percent_all(&ident),
    );
    Out::text("config/auth.env", text)
}

fn enc_neg_image(g: &mut Gen) -> Out {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    for _ in 0..180 {
        png.push(g.rng.next_u64() as u8);
    }
    let text = format!(
        ".logo {{\n  width: 32px;\n  background-image: url(\"data:image/png;base64,{}\");\n}}\n",
        base64(&png)
    );
    Out::text("web/styles/logo.css", text)
}

// ---------------------------------------------------------------- split

const SPLIT: &[Template] = &[
    tune("js-plus", split_js),
    tune("java-plus-lines", split_java),
    tune("py-adjacent", split_py_adjacent),
    tune("php-dot", split_php),
    tune("sh-continuation", split_sh_continuation),
    tune("neg-concat-words", split_neg_words),
    held("cs-plus", split_cs),
    held("c-adjacent", split_c),
    held("go-plus", split_go),
    held("js-template", split_js_template),
    held("py-fstring", split_py_fstring),
    held("py-string-continuation", split_py_continuation),
    held("neg-prefix-plus-var", split_neg_prefix_var),
];

/// A key cut in two: after the prefix, or inside the body.
fn halves(g: &mut Gen) -> (Key, String, String) {
    let key = g.stripe_live();
    let prefix_len = key.text.rfind('_').expect("a prefix") + 1;
    // Three rounds of live kinds cut after the prefix, then three inside the body.
    let at = match (g.round / 3) % 2 {
        0 => prefix_len,
        _ => prefix_len + g.rng.range(4, 12),
    };
    let (a, b) = key.text.split_at(at);
    let (a, b) = (a.to_string(), b.to_string());
    (key, a, b)
}

fn split_out(path: &str, text: String, first: &str, key: &Key) -> Out {
    let cut = if first.ends_with('_') {
        "at-prefix"
    } else {
        "in-body"
    };
    Out::text(path, text)
        .line(first, key.want)
        .tag(key.kind)
        .tag(cut)
}

fn split_js(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!(
        "const Stripe = require('stripe');\n\n// split so the scanner does not see it\nconst key = \"{a}\" + \"{b}\";\nmodule.exports = new Stripe(key);\n"
    );
    split_out("lib/stripe.js", text, &a, &key)
}

fn split_java(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!(
        "package com.example.pay;\n\nclass Keys {{\n    static final String STRIPE =\n        \"{a}\" +\n        \"{b}\";\n}}\n"
    );
    split_out("src/main/java/com/example/pay/Keys.java", text, &a, &key)
}

fn split_py_adjacent(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = if g.cycle(4) < 2 {
        format!("import stripe\n\nstripe.api_key = \"{a}\" \"{b}\"\n")
    } else {
        format!("import stripe\n\nstripe.api_key = (\n    \"{a}\"\n    \"{b}\"\n)\n")
    };
    split_out("payments/setup.py", text, &a, &key)
}

fn split_php(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text =
        format!("<?php\n\n$stripeKey = '{a}' . '{b}';\n\\Stripe\\Stripe::setApiKey($stripeKey);\n");
    split_out("includes/stripe.php", text, &a, &key)
}

fn split_sh_continuation(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!("#!/bin/sh\nexport STRIPE_SECRET_KEY={a}\\\n{b}\nexec node server.js\n");
    split_out("bin/start.sh", text, &a, &key)
}

fn split_neg_words(g: &mut Gen) -> Out {
    let word = g.pick(LOOKALIKE_WORDS);
    let id = g.rng.base62(24);
    let text = format!(
        "const volume = \"{word}_\" + \"live_\" + \"{id}\";\nconst label = 'ask_' + 'test_' + region;\nconst metric = \"disk_\" + mode + \"_usage\";\n"
    );
    Out::text("src/metrics/names.js", text)
}

fn split_cs(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!(
        "namespace Shop.Payments\n{{\n    public static class StripeSettings\n    {{\n        public const string SecretKey = \"{a}\" + \"{b}\";\n    }}\n}}\n"
    );
    split_out("Shop/Payments/StripeSettings.cs", text, &a, &key)
}

fn split_c(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!(
        "#include \"billing.h\"\n\nstatic const char *stripe_key =\n    \"{a}\"\n    \"{b}\";\n"
    );
    split_out("src/billing.c", text, &a, &key)
}

fn split_go(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!("package config\n\nvar StripeKey = \"{a}\" +\n\t\"{b}\"\n");
    split_out("config/stripe.go", text, &a, &key)
}

fn split_js_template(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!("export const STRIPE_KEY = `${{\"{a}\"}}{b}`;\n");
    split_out("src/config/keys.ts", text, &a, &key)
}

fn split_py_fstring(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!("import stripe\n\nstripe.api_key = f\"{{'{a}'}}{b}\"\n");
    split_out("worker/tasks.py", text, &a, &key)
}

fn split_py_continuation(g: &mut Gen) -> Out {
    let (key, a, b) = halves(g);
    let text = format!("SETTINGS = {{\n    \"stripe_key\": \"{a}\\\n{b}\",\n}}\n");
    split_out("settings/production.py", text, &a, &key)
}

fn split_neg_prefix_var(g: &mut Gen) -> Out {
    let ident = g.lookalike();
    let text = format!(
        "// The prefix says the mode; the key itself comes from the vault.\nconst key = \"sk_live_\" + process.env.STRIPE_KEY_BODY;\nconst table = \"{ident}\" + suffix;\nconst shown = \"pk_live_\" + \"\u{2026}\" + last4;\n"
    );
    Out::text("src/keys.ts", text)
}

// ---------------------------------------------------------------- path

const PATH: &[Template] = &[
    tune("file-name", path_file_name),
    tune("dir-name", path_dir_name),
    tune("neg-publishable-name", path_neg_publishable),
    held("nested-log-name", path_log_name),
    held("neg-lookalike-name", path_neg_lookalike),
];

const HARMLESS_JSON: &str = "{\n  \"created\": \"2025-03-12\",\n  \"note\": \"rotated\"\n}\n";

fn path_file_name(g: &mut Gen) -> Out {
    let key = g.stripe();
    let ext = g.pick(&["txt", "key", "json"]);
    let path = format!("keys/{}.{ext}", key.text);
    let mut out = Out::text(&path, HARMLESS_JSON.to_string()).file(key.want);
    out.variant = key.kind.to_string();
    out
}

fn path_dir_name(g: &mut Gen) -> Out {
    let key = g.stripe();
    let path = format!("backups/{}/settings.json", key.text);
    let mut out = Out::text(&path, HARMLESS_JSON.to_string()).file(key.want);
    out.variant = key.kind.to_string();
    out
}

fn path_log_name(g: &mut Gen) -> Out {
    let key = g.stripe();
    let path = format!("var/cache/tokens/{}_2025-03-12.log", key.text);
    let mut out = Out::text(&path, "request ok\nrequest ok\n".to_string()).file(key.want);
    out.variant = key.kind.to_string();
    out
}

fn path_neg_publishable(g: &mut Gen) -> Out {
    let pk = g.pk();
    Out::text(&format!("web/keys/{pk}.json"), HARMLESS_JSON.to_string())
}

fn path_neg_lookalike(g: &mut Gen) -> Out {
    let ident = g.lookalike();
    Out::text(
        &format!("reports/{ident}.csv"),
        "date,total\n2025-03-12,10\n".to_string(),
    )
}

// ---------------------------------------------------------------- encoding

const ENCODING: &[Template] = &[
    tune("utf16le-bom", encoding_utf16le_bom),
    tune("utf16be-bom", encoding_utf16be_bom),
    tune("stray-fffe-ascii", encoding_stray_bom),
    tune("neg-utf16le-placeholder", encoding_neg_utf16),
    held("utf16le-no-bom", encoding_utf16le_plain),
    held("utf32le-bom", encoding_utf32le_bom),
    held("utf16-head-ascii-tail", encoding_binary_tail),
    held("neg-utf16be-publishable", encoding_neg_utf16be),
];

fn env_text(key: &Key) -> String {
    format!(
        "# Payment settings\r\nAPP_ENV=production\r\nSTRIPE_SECRET_KEY={}\r\nSTRIPE_TIMEOUT=30\r\n",
        key.text
    )
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
    for unit in units {
        let bytes = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

fn encoded_env(g: &mut Gen, path: &str, encode: impl Fn(&str) -> Vec<u8>) -> Out {
    let key = g.stripe();
    let text = env_text(&key);
    Out::bytes(path, encode(&text))
        .line_in(&text, &key.text, key.want)
        .tag(key.kind)
}

fn encoding_utf16le_bom(g: &mut Gen) -> Out {
    let path = g.pick(&["config/payment.env", "Deploy/settings.ini"]);
    encoded_env(g, path, |t| utf16(t, false, true))
}

fn encoding_utf16be_bom(g: &mut Gen) -> Out {
    encoded_env(g, "config/legacy.env", |t| utf16(t, true, true))
}

fn encoding_utf16le_plain(g: &mut Gen) -> Out {
    encoded_env(g, "Tools/export.cfg", |t| utf16(t, false, false))
}

fn encoding_utf32le_bom(g: &mut Gen) -> Out {
    encoded_env(g, "config/unicode.env", |t| {
        let mut out = vec![0xFF, 0xFE, 0, 0];
        for c in t.chars() {
            out.extend_from_slice(&(c as u32).to_le_bytes());
        }
        out
    })
}

/// Two stray bytes that look like a UTF-16LE byte-order mark in front of plain
/// ASCII: decoding the rest as UTF-16 would lose the key.
fn encoding_stray_bom(g: &mut Gen) -> Out {
    let key = g.stripe();
    let text = format!(
        "APP_ENV=production\nSTRIPE_SECRET_KEY={}\nSTRIPE_TIMEOUT=30\n",
        key.text
    );
    let mut content = vec![0xFF, 0xFE];
    content.extend_from_slice(text.as_bytes());
    Out::bytes(".env", content)
        .line_in(&text, &key.text, key.want)
        .tag(key.kind)
}

fn encoding_neg_utf16(g: &mut Gen) -> Out {
    let pk = g.pk();
    let ident = g.lookalike();
    let text = format!(
        "STRIPE_SECRET_KEY={}\r\nSTRIPE_PUBLISHABLE_KEY={pk}\r\nREPORT_TABLE={ident}\r\n",
        g.placeholder()
    );
    Out::bytes("config/example.env", utf16(&text, false, true))
}

fn encoding_neg_utf16be(g: &mut Gen) -> Out {
    let pk = g.pk();
    let ident = g.lookalike();
    let text = format!(
        "[stripe]\r\npublishable = {pk}\r\nledger = {ident}\r\nsecret = {}\r\n",
        g.placeholder()
    );
    Out::bytes("Config/stripe.ini", utf16(&text, true, true))
}

/// A binary whose first kilobyte reads as UTF-16 text (a resource table) and
/// that holds a plain ASCII key further on.
fn encoding_binary_tail(g: &mut Gen) -> Out {
    let key = g.stripe();
    let mut content = vec![0x4D, 0x5A, 0x90, 0x00];
    let mut strings = String::new();
    while strings.len() < 700 {
        strings.push_str(g.pick(&[
            "FileDescription\0",
            "Billing Agent\0",
            "CompanyName\0",
            "Example Corp\0",
            "ProductVersion\0",
            "2.4.1.0\0",
        ]));
    }
    content.extend(utf16(&strings, false, false));
    for _ in 0..256 {
        content.push(g.rng.next_u64() as u8);
    }
    content.extend_from_slice(format!("\0\0STRIPE_SECRET_KEY={}\0\0", key.text).as_bytes());
    content.extend_from_slice(&[0u8; 64]);
    Out::bytes("bin/billing-agent.exe", content)
        .file(key.want)
        .tag(key.kind)
}

// ---------------------------------------------------------------- archive

const ARCHIVE: &[Template] = &[
    tune("zip", archive_zip),
    tune("jar", archive_jar),
    tune("tar", archive_tar),
    tune("tar-gz", archive_tar_gz),
    tune("neg-zip-publishable", archive_neg_zip),
    held("apk", archive_apk),
    held("whl", archive_whl),
    held("tgz", archive_tgz),
    held("zip-in-zip", archive_nested_zip),
    held("neg-tar-placeholder", archive_neg_tar),
];

fn archived(key: &Key) -> Vec<u8> {
    format!(
        "# settings for the batch job\nregion=eu-west-1\nstripe.secret-key={}\nretries=3\n",
        key.text
    )
    .into_bytes()
}

fn archive_out(path: &str, content: Vec<u8>, key: &Key) -> Out {
    Out::bytes(path, content).file(key.want).tag(key.kind)
}

fn archive_zip(g: &mut Gen) -> Out {
    let key = g.stripe();
    let zip = zip(&[
        ("README.txt", b"Nightly export.\n".as_slice()),
        ("config/app.properties", &archived(&key)),
    ]);
    archive_out("dist/export-2025-03-12.zip", zip, &key)
}

fn archive_jar(g: &mut Gen) -> Out {
    let key = g.stripe();
    let zip = zip(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nMain-Class: com.example.Batch\r\n\r\n".as_slice(),
        ),
        ("application.properties", &archived(&key)),
    ]);
    archive_out("lib/billing-batch-1.4.2.jar", zip, &key)
}

fn archive_apk(g: &mut Gen) -> Out {
    let key = g.stripe();
    let json = format!("{{\"stripeKey\":\"{}\",\"env\":\"prod\"}}\n", key.text);
    let zip = zip(&[
        (
            "AndroidManifest.xml",
            b"\x03\x00\x08\x00binary-xml".as_slice(),
        ),
        ("assets/config.json", json.as_bytes()),
        ("classes.dex", b"dex\n035\0".as_slice()),
    ]);
    archive_out("app/release/app-release.apk", zip, &key)
}

fn archive_whl(g: &mut Gen) -> Out {
    let key = g.stripe();
    let module = format!("STRIPE_KEY = \"{}\"\nTIMEOUT = 30\n", key.text);
    let zip = zip(&[
        (
            "billing_client/__init__.py",
            b"from .settings import *\n".as_slice(),
        ),
        ("billing_client/settings.py", module.as_bytes()),
        (
            "billing_client-0.3.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: billing-client\nVersion: 0.3.0\n".as_slice(),
        ),
    ]);
    archive_out("dist/billing_client-0.3.0-py3-none-any.whl", zip, &key)
}

fn archive_tar(g: &mut Gen) -> Out {
    let key = g.stripe();
    let tar = tar(&[
        ("backup/README", b"Config backup.\n".as_slice()),
        ("backup/app.env", &archived(&key)),
    ]);
    archive_out("backups/config-2025-03.tar", tar, &key)
}

fn archive_tar_gz(g: &mut Gen) -> Out {
    let key = g.stripe();
    let tar = tar(&[("release/config/app.properties", archived(&key).as_slice())]);
    archive_out("releases/billing-2.1.0.tar.gz", gzip(&tar), &key)
}

fn archive_tgz(g: &mut Gen) -> Out {
    let key = g.stripe();
    let script = format!("#!/bin/sh\nexport STRIPE_SECRET_KEY={}\n", key.text);
    let tar = tar(&[
        (
            "package/package.json",
            b"{\"name\":\"billing-cli\",\"version\":\"1.0.3\"}\n".as_slice(),
        ),
        ("package/bin/run.sh", script.as_bytes()),
    ]);
    archive_out("vendor/billing-cli-1.0.3.tgz", gzip(&tar), &key)
}

fn archive_nested_zip(g: &mut Gen) -> Out {
    let key = g.stripe();
    let inner = zip(&[("settings.env", archived(&key).as_slice())]);
    let outer = zip(&[
        ("manifest.txt", b"bundle 12\n".as_slice()),
        ("inner/settings.zip", &inner),
    ]);
    archive_out("artifacts/bundle.zip", outer, &key)
}

fn archive_neg_zip(g: &mut Gen) -> Out {
    let pk = g.pk();
    let ident = g.lookalike();
    let text = format!(
        "publishable={pk}\ntable={ident}\nsecret={}\n",
        g.placeholder()
    );
    Out::bytes(
        "dist/web-assets.zip",
        zip(&[("config.txt", text.as_bytes())]),
    )
}

fn archive_neg_tar(g: &mut Gen) -> Out {
    let text = format!(
        "Set STRIPE_SECRET_KEY={} before running.\n",
        g.placeholder()
    );
    Out::bytes("dist/docs.tar", tar(&[("docs/INSTALL", text.as_bytes())]))
}

// ---------------------------------------------------------------- containers

/// CRC-32 (IEEE, reflected), as zip and gzip store it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip with every entry stored (no compression), so a reader needs the
/// container format but no inflater.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    // 2025-03-12 10:00 in DOS time and date.
    const TIME: u16 = 10 << 11;
    const DATE: u16 = (45 << 9) | (3 << 5) | 12;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let fixed = |sig: u32, buf: &mut Vec<u8>| {
            buf.extend_from_slice(&sig.to_le_bytes());
        };
        fixed(0x0403_4b50, &mut out);
        for v in [20u16, 0, 0, TIME, DATE] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, data.len() as u32, data.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        fixed(0x0201_4b50, &mut central);
        for v in [20u16, 20, 0, 0, TIME, DATE] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, data.len() as u32, data.len() as u32] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [name.len() as u16, 0, 0, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    let n = entries.len() as u16;
    for v in [0u16, 0, n, n] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A ustar archive of regular files.
fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        let mut header = [0u8; 512];
        let put = |header: &mut [u8; 512], at: usize, bytes: &[u8]| {
            header[at..at + bytes.len()].copy_from_slice(bytes);
        };
        put(&mut header, 0, name.as_bytes());
        put(&mut header, 100, b"0000644\0");
        put(&mut header, 108, b"0001750\0");
        put(&mut header, 116, b"0001750\0");
        put(
            &mut header,
            124,
            format!("{:011o}\0", data.len()).as_bytes(),
        );
        put(&mut header, 136, b"14766425440\0");
        put(&mut header, 148, b"        ");
        header[156] = b'0';
        put(&mut header, 257, b"ustar\0");
        put(&mut header, 263, b"00");
        put(&mut header, 265, b"build");
        put(&mut header, 297, b"build");
        let sum: u32 = header.iter().map(|&b| b as u32).sum();
        put(&mut header, 148, format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// gzip around stored deflate blocks: a real `.gz` without a compressor.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut blocks = data.chunks(0xFFFF).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

// ---------------------------------------------------------------- key material

/// Makes private keys with the system's `openssl` and `ssh-keygen`, so they are
/// real keys of their kind; a temporary directory holds the files those tools
/// insist on and is removed on drop.
struct Pems {
    dir: PathBuf,
    made: usize,
}

impl Pems {
    fn new() -> Pems {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("keyward-corpus-{}-{nanos}", std::process::id()));
        Pems { dir, made: 0 }
    }

    fn next_path(&mut self) -> Option<PathBuf> {
        std::fs::create_dir_all(&self.dir).ok()?;
        self.made += 1;
        Some(self.dir.join(format!("k{}", self.made)))
    }

    fn private(&mut self, rng: &mut Rng, kind: PemKind) -> String {
        let pass = format!("pass:{}", rng.base62(16));
        let made = match kind {
            PemKind::Rsa => run("openssl", &["genrsa", "-traditional", "2048"], None),
            PemKind::Ec => run(
                "openssl",
                &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
                None,
            ),
            PemKind::Pkcs8Ed25519 => run("openssl", &["genpkey", "-algorithm", "ED25519"], None),
            PemKind::Pkcs8Rsa => run(
                "openssl",
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                ],
                None,
            ),
            PemKind::EncryptedPkcs8 => run(
                "openssl",
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-aes-256-cbc",
                    "-pass",
                    &pass,
                ],
                None,
            ),
            PemKind::ProcType => run("openssl", &["genrsa", "-traditional", "2048"], None)
                .and_then(|plain| {
                    run(
                        "openssl",
                        &["rsa", "-traditional", "-aes128", "-passout", &pass],
                        Some(plain.as_bytes()),
                    )
                }),
            PemKind::OpenSsh => self.ssh_keygen(rng).map(|(private, _)| private),
        };
        made.filter(|t| t.contains("PRIVATE KEY-----"))
            .unwrap_or_else(|| fake_pem(rng, kind.label(), matches!(kind, PemKind::ProcType)))
    }

    fn ssh_keygen(&mut self, rng: &mut Rng) -> Option<(String, String)> {
        let path = self.next_path()?;
        let comment = format!("deploy@build-{:02}", rng.below(100));
        let path_text = path.to_str()?;
        run(
            "ssh-keygen",
            &[
                "-q", "-t", "ed25519", "-N", "", "-C", &comment, "-f", path_text,
            ],
            None,
        )?;
        let private = std::fs::read_to_string(&path).ok();
        let public = std::fs::read_to_string(path.with_extension("pub")).ok();
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(path.with_extension("pub"));
        Some((private?, public?))
    }

    fn public(&mut self, rng: &mut Rng) -> String {
        run(
            "openssl",
            &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
            None,
        )
        .and_then(|key| run("openssl", &["pkey", "-pubout"], Some(key.as_bytes())))
        .unwrap_or_else(|| fake_block(rng, "PUBLIC KEY", 2))
    }

    fn certificate(&mut self, rng: &mut Rng) -> String {
        let made = (|| {
            let key_path = self.next_path()?;
            let key = run(
                "openssl",
                &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
                None,
            )?;
            std::fs::write(&key_path, key).ok()?;
            let cert = run(
                "openssl",
                &[
                    "req",
                    "-x509",
                    "-new",
                    "-key",
                    key_path.to_str()?,
                    "-subj",
                    "/CN=api.example.com",
                    "-days",
                    "365",
                ],
                None,
            );
            let _ = std::fs::remove_file(&key_path);
            cert
        })();
        made.unwrap_or_else(|| fake_block(rng, "CERTIFICATE", 9))
    }

    fn ssh_public(&mut self, rng: &mut Rng) -> String {
        self.ssh_keygen(rng)
            .map(|(_, public)| public.trim_end().to_string())
            .unwrap_or_else(|| {
                format!(
                    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} ci@build",
                    rng.string(BASE64, 43)
                )
            })
    }
}

impl Drop for Pems {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a key tool; `None` when it is missing or fails, so generation falls back
/// to a random body.
fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if let Some(input) = stdin {
        child.stdin.take()?.write_all(input).ok()?;
    }
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

fn fake_block(rng: &mut Rng, label: &str, lines: usize) -> String {
    let mut text = format!("-----BEGIN {label}-----\n");
    for i in 0..lines {
        let width = if i + 1 == lines { 44 } else { 64 };
        text.push_str(&rng.string(BASE64, width));
        text.push('\n');
    }
    let _ = writeln!(text, "-----END {label}-----");
    text
}

fn fake_pem(rng: &mut Rng, label: &str, proc_type: bool) -> String {
    let body = fake_block(rng, label, 25);
    if !proc_type {
        return body;
    }
    let (header, rest) = body.split_once('\n').expect("a header line");
    format!(
        "{header}\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{rest}",
        rng.hex(32).to_uppercase()
    )
}
