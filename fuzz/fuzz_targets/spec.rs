//! The optimizer, schedule, clipping and group spec parsers, and building what they
//! parse: any text is a value or an error, never a panic; a built optimizer takes a
//! step or refuses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optimist::clip::Clip;
use optimist::groups::GroupSpec;
use optimist::schedule::Schedule;
use optimist::{registry, Convention, NonFinite, Params, Spec, Tensor};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = text.parse::<Schedule>();
    let _ = text.parse::<Clip>();
    let _ = text.parse::<GroupSpec>();
    let _ = text.parse::<NonFinite>();
    let _ = text.parse::<Convention>();
    if let Ok(spec) = text.parse::<Spec>() {
        let _ = spec.to_string();
        for convention in Convention::ALL {
            if let Ok(mut opt) = registry::build_in::<f64>(&spec, convention) {
                let mut params: Params<f64> = [
                    (
                        "w",
                        Tensor::new(vec![2, 2], vec![1.0, -2.0, 0.5, 3.0]).unwrap(),
                    ),
                    ("b", Tensor::new(vec![2], vec![0.1, -0.1]).unwrap()),
                ]
                .into_iter()
                .collect();
                let grads: Params<f64> = [
                    (
                        "w",
                        Tensor::new(vec![2, 2], vec![0.5, 0.25, -1.0, 2.0]).unwrap(),
                    ),
                    ("b", Tensor::new(vec![2], vec![1.0, -3.0]).unwrap()),
                ]
                .into_iter()
                .collect();
                for _ in 0..2 {
                    let _ = opt.update(&mut params, &grads);
                }
                let _ = opt.save_state();
            }
        }
    }
});
