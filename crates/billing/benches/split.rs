//! The split of a 100-line bill.
use billing::{BillInput, BillLine};
use criterion::{criterion_group, criterion_main, Criterion};

fn hundred_lines() -> BillInput {
    let mut b = BillInput::from_json(include_str!(
        "../../../tests/fixtures/reference/examples/bill-B1a.json"
    ))
    .unwrap();
    let five: Vec<BillLine> = b.lines.clone();
    b.lines = five.iter().cycle().take(100).cloned().collect();
    b
}

fn bench(c: &mut Criterion) {
    let b = hundred_lines();
    c.bench_function("split 100-line bill", |x| {
        x.iter(|| std::hint::black_box(&b).split())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
