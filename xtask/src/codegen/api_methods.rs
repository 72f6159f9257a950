//! proto/api-methods.tsv → the API method table of `mezon-transport`: one marker type per
//! method implementing `ApiMethod`, the `METHODS` table, and a callback macro that lets other
//! code expand something once per method (typed convenience calls, server dispatch).

use std::fmt::Write;
use std::path::Path;

use prost_types::FileDescriptorSet;

use super::names::{message_path, snake_case};
use super::{GeneratedFile, HEADER};

const TABLE: &str = "proto/api-methods.tsv";
const OUT: &str = "crates/mezon-transport/src/api/generated.rs";

struct Method {
    index: Option<u16>,
    name: String,
    request: Option<String>,
    response: Option<String>,
}

pub fn generate(root: &Path, fds: &FileDescriptorSet) -> Result<Vec<GeneratedFile>, String> {
    let text = std::fs::read_to_string(root.join(TABLE)).map_err(|e| format!("{TABLE}: {e}"))?;
    let methods = parse(&text)?;
    for m in &methods {
        for ty in [&m.request, &m.response].into_iter().flatten() {
            if !message_exists(fds, ty) {
                return Err(format!("{TABLE}: {} names unknown message {ty}", m.name));
            }
        }
    }
    Ok(vec![GeneratedFile::rust(OUT, &render(&methods))?])
}

fn parse(text: &str) -> Result<Vec<Method>, String> {
    let mut methods = Vec::new();
    for (line_no, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [index, name, request, response] = cols.as_slice() else {
            return Err(format!("{TABLE}:{}: expected 4 columns", line_no + 1));
        };
        let index = match *index {
            "-" => None,
            n => {
                let n: u16 = n
                    .parse()
                    .map_err(|e| format!("{TABLE}:{}: {e}", line_no + 1))?;
                if usize::from(n) != methods.len() {
                    return Err(format!("{TABLE}:{}: index {n} out of order", line_no + 1));
                }
                Some(n)
            }
        };
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        methods.push(Method {
            index,
            name: (*name).to_owned(),
            request: opt(request),
            response: opt(response),
        });
    }
    Ok(methods)
}

fn message_exists(fds: &FileDescriptorSet, full_name: &str) -> bool {
    fds.file.iter().any(|f| {
        let prefix = format!("{}.", f.package());
        full_name
            .strip_prefix(&prefix)
            .is_some_and(|name| f.message_type.iter().any(|m| m.name() == name))
    })
}

fn rust_type(proto: &Option<String>) -> String {
    match proto.as_deref() {
        None => "()".to_owned(),
        Some(name) => message_path(name),
    }
}

fn render(methods: &[Method]) -> String {
    let mut s = String::from(HEADER);
    s.push_str(
        "//! Generated from proto/api-methods.tsv.\n\nuse super::{ApiMethod, MethodInfo};\n\n",
    );
    let _ = writeln!(
        s,
        "/// Every API method: the {} socket-routable ones in `api_index` order, then the HTTP-only ones.",
        methods.iter().filter(|m| m.index.is_some()).count()
    );
    s.push_str("pub const METHODS: &[MethodInfo] = &[\n");
    for m in methods {
        let _ = writeln!(
            s,
            "MethodInfo {{ name: {:?}, index: {:?}, request: {:?}, response: {:?} }},",
            m.name,
            m.index,
            m.request.as_deref().unwrap_or(""),
            m.response.as_deref().unwrap_or("")
        );
    }
    s.push_str("];\n\n");
    s.push_str("/// One marker type per API method, for [`ApiMethod`]-generic calls.\npub mod methods {\nuse super::ApiMethod;\n");
    for m in methods {
        let route = match m.index {
            Some(i) => format!("socket api index {i}, or HTTP"),
            None => "HTTP only".to_owned(),
        };
        let _ = writeln!(
            s,
            "/// `{name}`: `{req}` → `{resp}` ({route}).\n#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]\npub struct {name};\n\
             impl ApiMethod for {name} {{\nconst NAME: &'static str = {name:?};\nconst INDEX: Option<u16> = {index:?};\n\
             type Request = {rreq};\ntype Response = {rresp};\n}}\n",
            name = m.name,
            req = m.request.as_deref().unwrap_or("(empty)"),
            resp = m.response.as_deref().unwrap_or("(empty)"),
            index = m.index,
            rreq = rust_type(&m.request),
            rresp = rust_type(&m.response),
        );
    }
    s.push_str("}\n\n");
    s.push_str(
        "/// Calls `$callback! { (snake_name, MarkerType, RequestType, ResponseType), … }` once with\n\
         /// every API method, so code that needs one item per method is written once.\n\
         #[macro_export]\nmacro_rules! for_each_api_method {\n($callback:ident) => {\n$callback! {\n",
    );
    for m in methods {
        let _ = writeln!(
            s,
            "({}, {}, {}, {}),",
            snake_case(&m.name),
            m.name,
            rust_type(&m.request).replace("crate::", "$crate::"),
            rust_type(&m.response).replace("crate::", "$crate::"),
        );
    }
    s.push_str("}\n};\n}\n");
    s
}
