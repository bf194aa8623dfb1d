//! Figures a newcomer can read: colours that tell twenty runs apart, legends and
//! titles that are never cut, axes framed on what matters, marks where runs left.

use optimist::Convention;
use optimist_lab::figure::{
    grid, grid_layout, overlay, overlay_layout, series_dash, series_rgb, Format, Panel, SERIES_RGB,
    TRAJECTORY_RGB,
};
use optimist_lab::landscape::{article, builtin, Landscape, Window};
use optimist_lab::race::{Race, Run};

use crate::image;

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

/// Pixels within `radius` of `c` close to `colour` (sum of channel differences ≤ 60).
fn near(image: &Image, c: (f64, f64), radius: f64, colour: [u8; 3]) -> usize {
    image
        .pixels()
        .filter(|&(x, y, p)| {
            (x as f64 + 0.5 - c.0).hypot(y as f64 + 0.5 - c.1) <= radius
                && p.iter()
                    .zip(colour)
                    .map(|(&a, b)| (a as i32 - b as i32).abs())
                    .sum::<i32>()
                    <= 60
        })
        .count()
}

/// Where the segment from inside `a` to outside `b` crosses the window's edge, by
/// bisection (independent of the figure's own clipping).
fn exit_point(a: (f64, f64), b: (f64, f64), w: &Window) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        let p = (a.0 + (b.0 - a.0) * mid, a.1 + (b.1 - a.1) * mid);
        if w.contains(p.0, p.1) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (a.0 + (b.0 - a.0) * lo, a.1 + (b.1 - a.1) * lo)
}

#[test]
fn a_run_that_leaves_the_window_gets_an_arrow_where_it_left() {
    // SGD at the article's rate on Rosenbrock: step 1 lands far outside, then diverges.
    let f = builtin("rosenbrock").unwrap();
    let runs = race(&f, &["sgd:lr=0.95", "adam:lr=0.1"], 20);
    let sgd = &runs[0];
    assert!(sgd.diverged_at.is_some());
    let w = f.window();
    let (a, b) = (sgd.points[0], sgd.points[1]);
    assert!(!w.contains(b.x, b.y));
    let exit = exit_point((a.x, a.y), (b.x, b.y), &w);

    // 9 px back from the exit along the step, the arrowhead is about 8 px wide: a disc
    // of radius 4 there is mostly its colour, where the 2 px line alone covers a third.
    let back = |panel: &Panel| {
        let tip = panel.to_pixel(exit.0, exit.1);
        let from = panel.to_pixel(a.x, a.y);
        let (dx, dy) = (tip.0 - from.0, tip.1 - from.1);
        let n = dx.hypot(dy);
        (tip.0 - 9.0 * dx / n, tip.1 - 9.0 * dy / n)
    };
    let layout = overlay_layout(w, runs.len()).unwrap();
    let image = Image::decode(&overlay(&f, &runs, Format::Png).unwrap());
    let head = near(&image, back(&layout.panel), 4.0, series_rgb(0));
    assert!(head >= 35, "{head} pixels of the arrowhead");

    let layout = grid_layout(runs.len(), w).unwrap();
    let image = Image::decode(&grid(&f, &runs, Format::Png).unwrap());
    let head = near(&image, back(&layout.panels[0]), 4.0, TRAJECTORY_RGB);
    assert!(head >= 35, "{head} pixels of the arrowhead");
    // Without the arrow, the line alone: Adam's panel shows nothing there.
    let line = near(&image, back(&layout.panels[1]), 4.0, TRAJECTORY_RGB);
    assert!(line <= 5, "{line}");
    // Adam stays inside: no arrow, its panel's edge carries no trajectory colour.
    let adam = layout.panels[1];
    let edge = (adam.plot.y..adam.plot.bottom())
        .filter(|&y| image.pixel(adam.plot.right() - 2, y) == TRAJECTORY_RGB)
        .count();
    assert_eq!(edge, 0);
}

/// Dark pixels of the start ring left of the plotting area (the ring's outer half).
fn ring_outside(image: &Image, panel: &Panel, start: (f64, f64)) -> usize {
    let c = panel.to_pixel(start.0, start.1);
    image
        .pixels()
        .filter(|&(x, y, p)| {
            x < panel.plot.x - 2
                && (x as f64 + 0.5 - c.0).hypot(y as f64 + 0.5 - c.1) <= 10.0
                && p.iter().all(|&v| v < 110)
        })
        .count()
}

#[test]
fn a_start_on_the_window_edge_shows_its_whole_ring() {
    // Rosenbrock's classic start (−2, 2) lies on the window's left edge.
    let f = builtin("rosenbrock").unwrap();
    assert_eq!(f.start().0, f.window().x_min);
    let runs = race(&f, &["adam:lr=0.1"], 5);
    let layout = overlay_layout(f.window(), 1).unwrap();
    let image = Image::decode(&overlay(&f, &runs, Format::Png).unwrap());
    assert!(ring_outside(&image, &layout.panel, f.start()) >= 8);
    let layout = grid_layout(1, f.window()).unwrap();
    let image = Image::decode(&grid(&f, &runs, Format::Png).unwrap());
    assert!(ring_outside(&image, &layout.panels[0], f.start()) >= 8);
}

#[test]
fn the_minimum_is_drawn_over_an_end_square_on_it() {
    // Momentum ends on the article's minimum (0, 0): its + stays dark on top.
    let f = article();
    let runs = race(&f, &["momentum:lr=0.1"], 300);
    let last = runs[0].last();
    assert!(last.x.hypot(last.y) < 1e-3);
    let layout = grid_layout(1, f.window()).unwrap();
    let image = Image::decode(&grid(&f, &runs, Format::Png).unwrap());
    let c = layout.panels[0].to_pixel(0.0, 0.0);
    let ink = near(&image, c, 3.0, [34, 34, 34]);
    assert!(ink >= 8, "{ink} dark pixels at the minimum");
    let layout = overlay_layout(f.window(), 1).unwrap();
    let image = Image::decode(&overlay(&f, &runs, Format::Png).unwrap());
    let c = layout.panel.to_pixel(0.0, 0.0);
    assert!(near(&image, c, 3.0, [34, 34, 34]) >= 8);
}
