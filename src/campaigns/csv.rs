//! CSV exports: the preview (who would be messaged, and why not) and a campaign's recipients.
//! Phones are masked (`+91******1616`) unless the caller may and asks to see them in full. No cell
//! can start a formula: see [`field`].

use super::audience::Resolution;
use crate::domain::PhoneNumber;
use crate::store::campaigns::RecipientView;

/// The characters a spreadsheet may read a cell starting with as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One CSV field: a value starting with a [`FORMULA_STARTS`] character gets a leading `'` so that
/// spreadsheets read it as text (OWASP's advice against CSV injection; every column alike, so a
/// phone reads `'+91******1616`), then it is quoted when it needs to be.
fn field(s: &str) -> String {
    let s = if s.starts_with(FORMULA_STARTS) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn row(out: &mut String, fields: &[&str]) {
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&line.join(","));
    out.push('\n');
}

/// A phone as exported: masked unless `full`.
pub fn phone(p: &str, full: bool) -> String {
    match PhoneNumber::parse(p) {
        Ok(n) if !full => n.masked(),
        Ok(_) => p.to_string(),
        Err(_) => "invalid".into(),
    }
}

/// The preview: every eligible and skipped candidate with the variables it would get (masked phones).
pub fn preview(res: &Resolution, variables: impl Fn(&super::audience::Candidate) -> Vec<String>) -> String {
    let mut out = String::new();
    row(&mut out, &["phone", "lead_id", "project", "call_status", "outcome", "variables"]);
    let skipped = res.skipped.iter().map(|(c, r)| (c, *r));
    for (c, outcome) in res.eligible.iter().map(|c| (c, "send")).chain(skipped) {
        let lead = c.lead_id.map(|l| l.to_string()).unwrap_or_default();
        let vars = variables(c).join(" | ");
        let project = c.project_name.clone().unwrap_or_default();
        row(&mut out, &[&phone(&c.phone, false), &lead, &project, c.call_status.unwrap_or(""), outcome, &vars]);
    }
    out
}

/// A campaign's recipients with their status and times.
pub fn recipients(rows: &[RecipientView], full: bool) -> String {
    let mut out = String::new();
    row(
        &mut out,
        &[
            "phone",
            "lead_id",
            "project_id",
            "call_status",
            "status",
            "reason",
            "message_id",
            "sent_at",
            "delivered_at",
            "read_at",
        ],
    );
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let ts = |v: Option<chrono::NaiveDateTime>| v.map(|t| t.and_utc().to_rfc3339()).unwrap_or_default();
    for r in rows {
        let reason = r.skip_reason.clone().or_else(|| r.error.clone()).unwrap_or_default();
        row(
            &mut out,
            &[
                &phone(&r.phone, full),
                &opt(r.lead_id),
                &opt(r.project_id),
                r.call_status.as_deref().unwrap_or(""),
                &r.status,
                &reason,
                &opt(r.message_id),
                &ts(r.sent_at),
                &ts(r.delivered_at),
                &ts(r.read_at),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_phones_masked() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("-2+3"), "'-2+3");
        assert_eq!(field("+91******1616"), "'+91******1616");
        assert_eq!(field("\t=1+1"), "'\t=1+1");
        assert_eq!(field("\r=1,2"), "\"'\r=1,2\"");
        assert_eq!(field("a=1"), "a=1");
        assert_eq!(phone("+919876541616", false), "+91******1616");
        assert_eq!(phone("+919876541616", true), "+919876541616");
    }
}
