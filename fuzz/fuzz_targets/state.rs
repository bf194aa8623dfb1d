//! The saved-state loader: any bytes load into an optimizer (one of several kinds,
//! chosen by the first byte) or are refused, without a panic; a state that loads can
//! take a step and be saved again. Half the inputs get a valid envelope (length and
//! CRC-32 fixed up), so that the body's own checks are fuzzed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optimist::clip::{Clip, Clipped};
use optimist::groups::{GroupSpec, Grouped};
use optimist::schedule::Scheduled;
use optimist::{registry, Convention, Optimizer, Params, Tensor};

/// The optimizers a state may be loaded into: plain ones (with carried scalars or
/// not), and scheduled, clipped and grouped ones.
fn build(choice: u8) -> Box<dyn Optimizer<f64>> {
    const PLAIN: [&str; 5] = ["adam", "nadam", "momentum:lr=0.1", "adagrad", "rmsprop"];
    let plain = |i: usize| registry::parse::<f64>(PLAIN[i % PLAIN.len()]).unwrap();
    match choice % 8 {
        5 => Box::new(Scheduled::new(plain(0), "steplr:step_size=2".parse().unwrap()).unwrap()),
        6 => Box::new(Clipped::new(
            plain(1),
            "clip_grad_norm:max_norm=0.5".parse::<Clip>().unwrap(),
        )),
        7 => {
            let groups: Vec<GroupSpec> = vec!["*.bias:weight_decay=0".parse().unwrap()];
            let spec = "adamw:lr=0.05,weight_decay=0.1".parse().unwrap();
            Box::new(Grouped::build(&spec, &groups, Convention::PyTorch).unwrap())
        }
        i => plain(usize::from(i)),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let mut opt = build(choice);
    // With the top bit of the first byte, the envelope's length and checksum are made
    // right, so that mutations reach the body's checks instead of failing the CRC.
    let mut bytes = bytes.to_vec();
    if choice & 0x80 != 0 && bytes.len() >= 24 {
        let n = bytes.len();
        bytes[12..20].copy_from_slice(&((n - 24) as u64).to_le_bytes());
        let crc = optimist::saved::crc32(&bytes[..n - 4]);
        bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    }
    if opt.load_state(&bytes).is_ok() {
        let t = |v: Vec<f64>| Tensor::new(vec![v.len()], v).unwrap();
        let mut params: Params<f64> = [("w", t(vec![1.0, -2.0, 0.5])), ("fc.bias", t(vec![0.1]))]
            .into_iter()
            .collect();
        let grads: Params<f64> = [("w", t(vec![0.5, 0.25, -1.0])), ("fc.bias", t(vec![2.0]))]
            .into_iter()
            .collect();
        let _ = opt.update(&mut params, &grads);
        let _ = opt.save_state().unwrap();
    }
});
