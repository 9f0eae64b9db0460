//! Fuzzed parsers: every reader of outside input — the scanned code's classifier, the
//! bill reader, the center's envelope and answer types, the msgid reader, the error
//! classifier, the catalogue and policy files — gets arbitrary and mutated input and
//! must answer (a value or a clear error), never panic.
//!
//! Coverage-guided fuzzing (cargo-fuzz, cargo-afl) needs a nightly compiler or an AFL++
//! toolchain, neither of which this project's CI machine has; these are proptest's
//! generated and mutated inputs instead. The test command runs 256 cases per target;
//! a longer run: `PROPTEST_CASES=200000 cargo test --workspace --test fuzz --release`.
use proptest::prelude::*;
use serde_json::Value;

const BILL: &str = include_str!("../../../tests/fixtures/reference/examples/bill-B1a.json");

/// Any JSON value, nested a few levels, with the shapes a hostile peer would send:
/// huge and negative numbers, exponents, long and odd strings.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "[0-9.eE+-]{0,30}".prop_map(Value::String),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String("99999999999999999999.99".into())),
        Just(Value::String("-0.01".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,14}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The bill B1a with one field, anywhere in it, replaced by an arbitrary value.
fn mutated_bill() -> impl Strategy<Value = String> {
    (any::<prop::sample::Index>(), json()).prop_map(|(at, v)| {
        let mut bill: Value = serde_json::from_str(BILL).unwrap();
        let mut slots = Vec::new();
        collect_paths(&bill, &mut Vec::new(), &mut slots);
        let path = at.get(&slots).clone();
        *pointer_mut(&mut bill, &path) = v;
        bill.to_string()
    })
}

fn collect_paths(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                here.push(k.clone());
                collect_paths(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(i.to_string());
                collect_paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn pointer_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Object(m) => m.get_mut(k).unwrap(),
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        _ => unreachable!(),
    })
}

proptest! {
    #[test]
    fn the_code_classifier_answers_any_text(s in "\\PC{0,300}|[0-9A-Za-z:|_-]{0,120}") {
        let _ = voucher::classify(&s);
        let _ = voucher::mask_name(&s);
        let _ = voucher::mask_id(&s);
    }

    #[test]
    fn the_bill_reader_answers_any_text(s in "\\PC{0,400}") {
        let _ = billing::BillInput::from_json(&s);
    }

    #[test]
    fn the_bill_reader_answers_any_json_and_what_it_accepts_splits(v in json()) {
        if let Ok(b) = billing::BillInput::from_json(&v.to_string()) {
            if billing::check_bill(&b.lines).is_ok() {
                let _ = billing::split(&b.lines, &b.person, &b.policy);
            }
        }
    }

    #[test]
    fn a_bill_with_any_field_changed_is_read_or_refused(text in mutated_bill()) {
        if let Ok(b) = billing::BillInput::from_json(&text) {
            if billing::check_bill(&b.lines).is_ok() {
                let s = billing::split(&b.lines, &b.person, &b.policy);
                let _ = s;
            }
        }
    }

    #[test]
    fn the_envelope_reader_answers_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = nhsa::ResponseEnvelope::parse(&bytes);
    }

    #[test]
    fn the_answer_types_read_any_json(output in json(), infcode in any::<i64>(), msg in ".{0,60}") {
        let body = serde_json::json!({"infcode": infcode, "err_msg": msg, "output": output});
        if let Ok(env) = nhsa::ResponseEnvelope::parse(body.to_string().as_bytes()) {
            let o = env.output.clone();
            let _ = serde_json::from_value::<nhsa::types::SettleOutput>(o.clone());
            let _ = serde_json::from_value::<nhsa::types::Setlinfo>(o.clone());
            let _ = serde_json::from_value::<nhsa::types::PsnInfo>(o.clone());
            let _ = serde_json::from_value::<nhsa::types::FeeResult>(o.clone());
            let _ = serde_json::from_value::<nhsa::types::EcInfo>(o);
        }
        let _ = nhsa::classify(&msg, Some(infcode));
    }

    #[test]
    fn msgids_and_catalogues_are_read_or_refused(s in "\\PC{0,80}|[0-9A-Z]{20,40}", v in json()) {
        let _ = nhsa::parse_msgid(&s);
        let _ = billing::Catalog::from_json(&v.to_string());
        let _ = billing::PolicyBook::from_json(&v.to_string());
        let _ = billing::Catalog::from_json(&s);
    }
}
