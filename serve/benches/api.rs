//! Requests per second of the API (see BENCHMARKS.md).

fn main() {}
