//! Figures a newcomer can read: colours that tell twenty runs apart, legends and
//! titles that are never cut, axes framed on what matters, marks where runs left.

use optimist::Convention;
use optimist_lab::figure::{overlay, overlay_layout, series_dash, series_rgb, Format, SERIES_RGB};
use optimist_lab::landscape::{builtin, Landscape};
use optimist_lab::race::{Race, Run};

mod image;

use image::Image;

/// CIE L*a*b* of an sRGB colour (D65).
fn lab([r, g, b]: [u8; 3]) -> [f64; 3] {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(r), lin(g), lin(b));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIE76 colour difference.
fn delta_e(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (a, b) = (lab(a), lab(b));
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn race(landscape: &dyn Landscape, specs: &[&str], steps: usize) -> Vec<Run> {
    Race {
        start: landscape.start(),
        steps,
        optimizers: specs.iter().map(|s| s.parse().unwrap()).collect(),
        convention: Convention::Article,
        wrapping: Default::default(),
    }
    .run::<f64>(landscape)
    .unwrap()
}

#[test]
fn twenty_colours_are_pairwise_distinct_then_lines_are_dashed() {
    assert!(SERIES_RGB.len() >= 20);
    let mut closest = f64::INFINITY;
    for (i, &a) in SERIES_RGB.iter().enumerate() {
        for &b in &SERIES_RGB[i + 1..] {
            closest = closest.min(delta_e(a, b));
        }
        // Dark enough to read on white: L* at most 80.
        assert!(lab(a)[0] <= 80.0, "colour {i} is too light");
    }
    assert!(closest >= 25.0, "two colours only ΔE {closest:.1} apart");
    // sgd and radam (runs 1 and 11 of the eleven defaults) no longer share blue.
    assert!(delta_e(series_rgb(0), series_rgb(10)) >= 25.0);
    // Beyond 20 the colours come round again, with another line style.
    assert_eq!(series_rgb(20), series_rgb(0));
    assert_eq!(series_dash(0), None);
    assert!(series_dash(20).is_some() && series_dash(40).is_some());
    assert_ne!(series_dash(20), series_dash(40));
}

#[test]
fn a_long_legend_wraps_into_columns_beside_the_plot() {
    let f = builtin("rosenbrock").unwrap();
    let one = overlay_layout(f.window(), 4).unwrap();
    let many = overlay_layout(f.window(), 24).unwrap();
    // The figure grows sideways, never far below the plot.
    assert!(
        many.height <= one.height + 10,
        "{} vs {}",
        many.height,
        one.height
    );
    assert!(many.width > one.width + 200);
    // And the columns are drawn: 24 runs, each colour's swatch is in the picture.
    let specs: Vec<String> = (0..24)
        .map(|k| format!("sgd:lr={}", 1e-4 * (k + 1) as f64))
        .collect();
    let specs: Vec<&str> = specs.iter().map(String::as_str).collect();
    let runs = race(&f, &specs, 5);
    let image = Image::decode(&overlay(&f, &runs, Format::Png).unwrap());
    assert_eq!((image.width, image.height), (many.width, many.height));
    let right_of_first_column = image
        .pixels()
        .filter(|&(x, _, p)| x as f64 > many.legend.0 + 260.0 && p == series_rgb(19))
        .count();
    assert!(right_of_first_column > 10, "the second column's swatches");
}
