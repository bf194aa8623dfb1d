use optimist::{optim::Adam, registry, Build, Convention, Optimizer, Params, Tensor};

/// Fits y = w·x + b to 21 points of y = 3x − 2 by least squares, 300 steps of `opt`.
fn fit(opt: &mut dyn Optimizer<f32>) -> Result<(f32, f32), optimist::Error> {
    let xs: Vec<f32> = (0..=20).map(|i| i as f32 / 10.0 - 1.0).collect();
    let mut params: Params<f32> = Params::new();
    params.insert("w", Tensor::scalar(0.0));
    params.insert("b", Tensor::scalar(0.0));
    let mut grads = params.zeros_like();
    let value = |p: &Params<f32>, name: &str| p.get(name).unwrap().data()[0];
    for _ in 0..300 {
        let (w, b) = (value(&params, "w"), value(&params, "b"));
        // The gradient of the mean squared error over the points.
        let (mut gw, mut gb) = (0.0, 0.0);
        for &x in &xs {
            let error = w * x + b - (3.0 * x - 2.0);
            gw += 2.0 * error * x / xs.len() as f32;
            gb += 2.0 * error / xs.len() as f32;
        }
        grads.get_mut("w").unwrap().data_mut()[0] = gw;
        grads.get_mut("b").unwrap().data_mut()[0] = gb;
        opt.update(&mut params, &grads)?;
    }
    Ok((value(&params, "w"), value(&params, "b")))
}

fn main() -> Result<(), optimist::Error> {
    let mut adam = Adam {
        lr: 0.1,
        ..Adam::default()
    }
    .build()?;
    let (w, b) = fit(adam.as_mut())?;
    println!("adam:    y = {w:.3}x {b:+.3}");
    assert!((w - 3.0).abs() < 0.01 && (b + 2.0).abs() < 0.01);
    // Or by name, as the command line does, in the convention you mean:
    let mut sgd = registry::parse::<f32>("sgd:lr=0.1,momentum=0.9", Convention::PyTorch)?;
    let (w, b) = fit(sgd.as_mut())?;
    println!("sgd:     y = {w:.3}x {b:+.3}");
    assert!((w - 3.0).abs() < 0.01 && (b + 2.0).abs() < 0.01);
    Ok(())
}
