//! Schema parity: the SQLite and PostgreSQL migrations build the same tables and columns, and both
//! match what `src/db/schema.rs` declares (so a column forgotten in one place fails here).

use std::collections::BTreeMap;

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::helpers::*;

/// (table, column) -> (type, nullable).
type Columns = BTreeMap<(String, String), (String, bool)>;

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    col_type: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

const SQLITE_COLUMNS: &str = r#"
    SELECT m.name AS table_name, p.name AS column_name, p.type AS col_type,
           CASE WHEN p."notnull" = 0 AND p.pk = 0 THEN 'YES' ELSE 'NO' END AS nullable
    FROM sqlite_master m, pragma_table_info(m.name) p
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"#;

const PG_COLUMNS: &str = "
    SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
           c.data_type::text AS col_type, c.is_nullable::text AS nullable
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
      AND c.table_name <> '__diesel_schema_migrations'";

/// The columns a migrated database has, with each backend's type names mapped to diesel's.
fn columns(url: &str) -> Columns {
    let mut conn = wabahub::db::connect(url).expect("connect");
    let query = if url.starts_with("sqlite://") { SQLITE_COLUMNS } else { PG_COLUMNS };
    let rows: Vec<ColumnRow> = diesel::sql_query(query).load(&mut conn).expect("read columns");
    rows.into_iter().map(|r| ((r.table_name, r.column_name), (diesel_type(&r.col_type), r.nullable == "YES"))).collect()
}

/// A backend's declared type as the diesel SQL type it maps to.
fn diesel_type(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "bigint" | "int8" => "BigInt",
        "integer" | "int" | "int4" => "Integer",
        "text" => "Text",
        "boolean" | "bool" => "Bool",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "date" => "Date",
        "double" | "double precision" | "float8" | "real" => "Double",
        other => panic!("column type {other:?} is not one of the portable types (docs/ARCHITECTURE.md, storage rules)"),
    }
    .to_string()
}

/// Parses the `diesel::table!` blocks of `src/db/schema.rs`.
fn declared_columns() -> Columns {
    let text = include_str!("../../src/db/schema.rs");
    let mut out = Columns::new();
    let mut table: Option<String> = None;
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line.starts_with("diesel::table!") {
            let header = lines.next().expect("a table name after diesel::table!");
            table = Some(header.split_whitespace().next().expect("table name").to_string());
        } else if line == "}" {
            table = None;
        } else if let (Some(t), Some((col, ty))) = (&table, line.split_once("->")) {
            let col = col.trim().trim_start_matches("r#").to_string();
            let ty = ty.trim().trim_end_matches(',');
            let (ty, nullable) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                Some(inner) => (inner, true),
                None => (ty, false),
            };
            out.insert((t.clone(), col), (ty.to_string(), nullable));
        }
    }
    assert!(out.len() > 10, "could not parse src/db/schema.rs: {out:?}");
    out
}

/// Lists the differences between two column maps, for a readable failure.
fn diff(left_name: &str, left: &Columns, right_name: &str, right: &Columns) -> Vec<String> {
    let mut out = Vec::new();
    for (key, l) in left {
        match right.get(key) {
            None => out.push(format!("{}.{}: in {left_name}, missing from {right_name}", key.0, key.1)),
            Some(r) if r != l => {
                out.push(format!("{}.{}: {left_name} has {l:?}, {right_name} has {r:?}", key.0, key.1))
            }
            Some(_) => {}
        }
    }
    for key in right.keys().filter(|k| !left.contains_key(*k)) {
        out.push(format!("{}.{}: in {right_name}, missing from {left_name}", key.0, key.1));
    }
    out
}

/// SQLite stores every integer as 64 bits, and diesel reads an `INTEGER PRIMARY KEY` as `BigInt`,
/// so on SQLite only the integer family is compared.
fn integer_family(cols: &Columns) -> Columns {
    cols.iter()
        .map(|(k, (ty, n))| {
            let ty = if ty == "Integer" { "BigInt".to_string() } else { ty.clone() };
            (k.clone(), (ty, *n))
        })
        .collect()
}

fn fresh_sqlite() -> (tempfile::TempDir, Columns) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/schema.db", dir.path().display());
    wabahub::db::migrate(&mut wabahub::db::connect(&url).unwrap()).unwrap();
    let cols = columns(&url);
    (dir, cols)
}

#[test]
fn sqlite_migrations_match_schema_rs() {
    let (_dir, sqlite) = fresh_sqlite();
    let problems =
        diff("migrations/sqlite", &integer_family(&sqlite), "schema.rs", &integer_family(&declared_columns()));
    assert!(problems.is_empty(), "SQLite schema differs from src/db/schema.rs:\n{}", problems.join("\n"));
}

#[actix_web::test]
async fn postgres_migrations_match_sqlite_and_schema_rs() {
    if pg_admin_url().is_none() {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL schema parity not checked");
        return;
    }
    let app = spawn_app().await;
    let url = app.database_url.clone();
    let pg = actix_web::web::block(move || columns(&url)).await.unwrap();
    let (_dir, sqlite) = fresh_sqlite();
    let problems = diff("migrations/postgres", &pg, "schema.rs", &declared_columns());
    assert!(problems.is_empty(), "PostgreSQL schema differs from src/db/schema.rs:\n{}", problems.join("\n"));
    let problems = diff("migrations/postgres", &integer_family(&pg), "migrations/sqlite", &integer_family(&sqlite));
    assert!(problems.is_empty(), "the two backends' schemas differ:\n{}", problems.join("\n"));
}
