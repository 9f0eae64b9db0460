//! Renders the TypeScript client of the window's contract (`contract.rs`) from the
//! Rust types (ts-rs): one function per command, its arguments by name and type, its
//! answer typed. `cargo test` writes ui/src/bindings/commands.ts; the CI check fails
//! when the committed file differs.
use std::collections::BTreeSet;

pub struct Arg {
    pub name: &'static str,
    pub ts: String,
    /// The exported types this one refers to (for the imports).
    pub deps: Vec<String>,
}

impl Arg {
    pub fn of<T: ts_rs::TS + 'static>(name: &'static str) -> Arg {
        let mut v = Exported(Vec::new());
        ts_rs::TypeVisitor::visit::<T>(&mut v);
        Arg {
            name,
            ts: T::name(),
            deps: v.0,
        }
    }
}

/// Collects the exported types a type names: itself, and its generic arguments
/// (`Vec<OperatorView>` names OperatorView).
struct Exported(Vec<String>);

impl ts_rs::TypeVisitor for Exported {
    fn visit<T: ts_rs::TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_some() {
            self.0.push(T::ident());
        }
        T::visit_generics(self);
    }
}

pub struct Command {
    pub name: &'static str,
    pub args: Vec<Arg>,
    pub ret: Arg,
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub fn render(commands: &[Command]) -> String {
    let mut imports = BTreeSet::new();
    for c in commands {
        for a in c.args.iter().chain([&c.ret]) {
            imports.extend(a.deps.iter().cloned());
        }
    }
    let mut out = String::from(
        "// Generated from src-tauri/src/contract.rs by `cargo test`; do not edit.\n\
         // One function per command: the names, argument keys and types come from Rust.\n\
         import { call } from \"../call\";\n",
    );
    for t in &imports {
        out += &format!("import type {{ {t} }} from \"./{t}\";\n");
    }
    out += "\nexport const commands = {\n";
    for c in commands {
        let params: Vec<String> = c
            .args
            .iter()
            .map(|a| format!("{}: {}", camel(a.name), a.ts))
            .collect();
        let keys: Vec<String> = c.args.iter().map(|a| camel(a.name)).collect();
        let args = if keys.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", keys.join(", "))
        };
        out += &format!(
            "  {}: ({}) => call<{}>(\"{}\"{}),\n",
            camel(c.name),
            params.join(", "),
            c.ret.ts,
            c.name,
            args
        );
    }
    out += "} as const;\n";
    out
}

#[test]
fn export_the_typescript_client() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings/commands.ts");
    let text = crate::contract::typescript();
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).expect("writing ui/src/bindings/commands.ts");
    }
}
