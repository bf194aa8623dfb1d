//! The article's script, in Rust: four optimizers race on f(x, y) = x²/20 + y² from
//! (−7, 2) for 30 steps, each updating named parameters from their gradients.
//!
//! Run it with `cargo run -p optimist --example article`.

use optimist::optim::{AdaGrad, Adam, Momentum, Sgd};
use optimist::{Build, Optimizer, Params, Tensor};

fn f(x: f64, y: f64) -> f64 {
    x * x / 20.0 + y * y
}

fn df(x: f64, y: f64) -> (f64, f64) {
    (x / 10.0, 2.0 * y)
}

fn main() -> Result<(), optimist::Error> {
    let init_pos = (-7.0, 2.0);

    // Like the article's OrderedDict of optimizers.
    let optimizers: Vec<(&str, Box<dyn Optimizer<f64>>)> = vec![
        ("SGD", Sgd { lr: 0.95 }.build()?),
        (
            "Momentum",
            Momentum {
                lr: 0.1,
                ..Momentum::default()
            }
            .build()?,
        ),
        (
            "AdaGrad",
            AdaGrad {
                lr: 1.5,
                ..AdaGrad::default()
            }
            .build()?,
        ),
        (
            "Adam",
            Adam {
                lr: 0.3,
                ..Adam::default()
            }
            .build()?,
        ),
    ];

    for (key, mut optimizer) in optimizers {
        let mut params: Params<f64> = Params::new();
        params.insert("x", Tensor::scalar(init_pos.0));
        params.insert("y", Tensor::scalar(init_pos.1));
        let mut grads = params.zeros_like();

        for _ in 0..30 {
            let (x, y) = (
                params.get("x").unwrap().data()[0],
                params.get("y").unwrap().data()[0],
            );
            let (gx, gy) = df(x, y);
            grads.get_mut("x").unwrap().data_mut()[0] = gx;
            grads.get_mut("y").unwrap().data_mut()[0] = gy;
            optimizer.update(&mut params, &grads)?;
        }

        let (x, y) = (
            params.get("x").unwrap().data()[0],
            params.get("y").unwrap().data()[0],
        );
        println!(
            "{key:<9} {:<48} after 30 steps: ({x:>9.5}, {y:>9.5}), f = {:.3e}",
            optimizer.label(),
            f(x, y)
        );
    }
    Ok(())
}
