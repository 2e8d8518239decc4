use super::*;

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

#[test]
fn debug_lines() {
    for l in [
        "S3_KEY=ZhIowdwwuI0IBkrwgpU4hcliCWVJVfTyZyWh73yp",
        "ENV[\"API_TOKEN\"] ||= \"ZqP8fhIgFPeaBDSkrIdXEDY4D\"",
        "        self.ephemeral_keys: \"EphemeralKeyService\" = EphemeralKeyService(self._requestor)",
        "s3_key = \"uploads/2021/report.pdf\"",
    ] {
        eprintln!("{l}\n   -> {:?}", found(l));
    }
}

#[test]
fn debug_parts() {
    for v in ["ZhIowdwwuI0IBkrwgpU4hcliCWVJVfTyZyWh73yp", "ZqP8fhIgFPeaBDSkrIdXEDY4D"] {
        eprintln!("{v}: shape {:?} random {} wordy {} name {:?}", value_shape(v.as_bytes(), false), random_like(v.as_bytes()), wordy_fraction(v.as_bytes()), name_strength(b"S3_KEY"));
    }
    eprintln!("{:?}", name_words(b"ENV[\"API_TOKEN\"]"));
    eprintln!("{:?}", name_before(b"ENV[\"API_TOKEN\"] ||= \"x\"", 19));
}
