//! A small RFC 4180 CSV reader for uploads: comma-separated, fields optionally in double quotes
//! (with `""` for a quote, and line breaks allowed inside), CRLF or LF line ends, a UTF-8 BOM ignored.

/// One record with the line it starts on (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Why a file could not be read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvError {
    /// A quoted field is never closed; the line it opens on.
    UnclosedQuote(usize),
}

/// Splits a file into records; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let (mut fields, mut field) = (Vec::new(), String::new());
    let (mut line, mut start, mut quoted, mut was_quoted) = (1, 1, false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => (quoted, was_quoted) = (true, true),
            ',' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                push(&mut records, std::mem::take(&mut fields), start);
                line += 1;
                (start, was_quoted) = (line, false);
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(CsvError::UnclosedQuote(start));
    }
    fields.push(field);
    push(&mut records, fields, start);
    Ok(records)
}

fn push(records: &mut Vec<Record>, fields: Vec<String>, line: usize) {
    let blank = fields.len() == 1 && fields[0].trim().is_empty();
    if !blank {
        records.push(Record { line, fields });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap().into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn reads_plain_quoted_and_multiline_fields() {
        let got = fields("\u{feff}name,phone\r\n\"Doe, Jane\",\"+91 98765 43210\"\n\n\"say \"\"hi\"\"\nthere\",x\n");
        assert_eq!(
            got,
            vec![vec!["name", "phone"], vec!["Doe, Jane", "+91 98765 43210"], vec!["say \"hi\"\nthere", "x"]]
        );
    }

    #[test]
    fn records_keep_their_starting_line() {
        let lines: Vec<usize> = parse("a\n\"b\nc\"\nd").unwrap().into_iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 2, 4]);
    }

    #[test]
    fn an_unclosed_quote_is_an_error() {
        assert_eq!(parse("a\n\"b,c\n"), Err(CsvError::UnclosedQuote(2)));
    }
}
