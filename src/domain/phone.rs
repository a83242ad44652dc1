//! E.164 phone numbers, with India's mobile-number rules for +91.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A phone number in E.164 form (`+` then 8 to 15 digits, no leading zero).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a string is not an acceptable phone number; the value is the API's field code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneError {
    /// Not `+` followed by 8–15 digits.
    Format,
    /// A +91 number that is not 10 digits starting with 6–9.
    India,
}

impl PhoneError {
    pub fn code(self) -> &'static str {
        match self {
            PhoneError::Format => "invalid_e164",
            PhoneError::India => "invalid_india_mobile",
        }
    }
}

impl PhoneNumber {
    /// Parses `+<digits>` (spaces, dashes, dots and brackets are ignored; `00` counts as `+`).
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        let rest = trimmed.strip_prefix('+').or_else(|| trimmed.strip_prefix("00")).ok_or(PhoneError::Format)?;
        let mut digits = String::with_capacity(15);
        for ch in rest.chars() {
            match ch {
                '0'..='9' => digits.push(ch),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(PhoneError::Format),
            }
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneError::Format);
        }
        if let Some(national) = digits.strip_prefix("91") {
            let valid = national.len() == 10 && matches!(national.as_bytes()[0], b'6'..=b'9');
            if !valid {
                return Err(PhoneError::India);
            }
        }
        Ok(PhoneNumber(format!("+{digits}")))
    }

    /// Reads a number as call logs and spreadsheets write it: E.164 as in `parse`, or national digits
    /// (`9876543210`, `09876543210`) given the default country code, or digits already carrying it.
    pub fn parse_national(input: &str, country_code: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.starts_with('+') || trimmed.starts_with("00") {
            return Self::parse(trimmed);
        }
        let digits: String = trimmed.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::Format);
        }
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        if national.len() == 10 {
            Self::parse(&format!("+{country_code}{national}"))
        } else {
            Self::parse(&format!("+{digits}"))
        }
    }

    /// The E.164 string, with `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits only, as providers take them in `to`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// A masked form for logs and exports: `+91******1616`.
    pub fn masked(&self) -> String {
        let d = self.digits();
        let cc = if d.starts_with("91") || d.starts_with("44") { 2 } else { 1 };
        format!("+{}{}{}", &d[..cc], "*".repeat(d.len() - cc - 4), &d[d.len() - 4..])
    }
}

/// A `validator` rule: the string must parse as a `PhoneNumber`.
pub fn validate_phone(v: &str) -> Result<(), validator::ValidationError> {
    PhoneNumber::parse(v).map(|_| ()).map_err(|e| validator::ValidationError::new(e.code()))
}

/// The E.164 form of a string that passed `validate_phone` (unchanged if it did not).
pub fn e164(raw: &str) -> String {
    PhoneNumber::parse(raw).map(|p| p.0).unwrap_or_else(|_| raw.to_string())
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        PhoneNumber::parse(&raw).map_err(|e| serde::de::Error::custom(e.code()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(PhoneNumber::parse("+1 (650) 555-1234").unwrap().as_str(), "+16505551234");
        assert_eq!(PhoneNumber::parse("0044 20 7946 0958").unwrap().as_str(), "+442079460958");
        assert_eq!(PhoneNumber::parse("+91 98765 43210").unwrap().digits(), "919876543210");
    }

    #[test]
    fn refuses_bad_numbers() {
        for bad in ["", "12345", "16505551234", "+0123456789", "+1234567", "+1234567890123456", "+1-800-FLOWERS"] {
            assert_eq!(PhoneNumber::parse(bad), Err(PhoneError::Format), "{bad}");
        }
        for bad in ["+915876543210", "+91987654321", "+9198765432101"] {
            assert_eq!(PhoneNumber::parse(bad), Err(PhoneError::India), "{bad}");
        }
    }

    #[test]
    fn reads_national_numbers_with_the_default_country() {
        for raw in ["9876543210", "09876543210", "919876543210", "+91 98765 43210", "98765-43210"] {
            assert_eq!(PhoneNumber::parse_national(raw, "91").unwrap().as_str(), "+919876543210", "{raw}");
        }
        assert_eq!(PhoneNumber::parse_national("6505551234", "1").unwrap().as_str(), "+16505551234");
        for bad in ["", "anonymous", "12345", "5876543210"] {
            assert!(PhoneNumber::parse_national(bad, "91").is_err(), "{bad}");
        }
    }

    #[test]
    fn masks_all_but_country_and_last_four() {
        assert_eq!(PhoneNumber::parse("+919876541616").unwrap().masked(), "+91******1616");
    }
}
