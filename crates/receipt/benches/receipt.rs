//! Time to build one receipt PDF (and, printed once, its size).
use criterion::{criterion_group, criterion_main, Criterion};
use receipt::{render_pdf, sample, Layout};

fn bench(c: &mut Criterion) {
    let r = sample();
    for (name, l) in [("roll80", Layout::Roll80), ("a5", Layout::A5)] {
        let bytes = render_pdf(&r, l).unwrap();
        eprintln!("receipt {name}: {} bytes", bytes.len());
        c.bench_function(&format!("receipt pdf {name}"), |b| {
            b.iter(|| render_pdf(std::hint::black_box(&r), l).unwrap())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
