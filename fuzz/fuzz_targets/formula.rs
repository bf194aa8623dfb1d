//! The formula parser and evaluator: any text parses or is an error naming a column
//! inside it (or one past its end); a parsed formula evaluates, with its gradient,
//! anywhere without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optimist_lab::formula::Formula;
use optimist_lab::landscape::Landscape;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Formula::parse(text) {
        Ok(f) => {
            for (x, y) in [
                (0.0, 0.0),
                (1.0, -1.0),
                (-7.0, 2.0),
                (1e300, -1e-300),
                (f64::NAN, 1.0),
            ] {
                let _ = f.value(x, y);
                let _ = f.gradient(x, y);
            }
            let _ = f.formula();
        }
        Err(e) => {
            let length = text.trim().chars().count();
            assert!(e.column >= 1 && e.column <= length + 1, "{e:?}");
            let _ = e.to_string();
        }
    }
});
