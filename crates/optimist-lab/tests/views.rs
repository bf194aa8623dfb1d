//! The overlay, loss and sensitivity figures, decoded and checked: their size, that each
//! run is drawn in its own colour where its points are, the legend, and the files each
//! view makes.

use optimist::{Convention, Spec};
use optimist_lab::figure::{self, overlay_layout, series_rgb, Format, View, ViewFile, ViewInput};
use optimist_lab::landscape::{article, builtin, Landscape};
use optimist_lab::race::{Race, Run};
use optimist_lab::tune::{tune, Search, Tune};

use crate::image;

use image::Image;

/// How many pixels of `image` are within a small distance of `colour`.
fn count(image: &Image, colour: [u8; 3]) -> usize {
    image.pixels().filter(|&(_, _, p)| close(p, colour)).count()
}

/// Solid strokes only: anti-aliased edges blend with what is under them.
fn close(p: [u8; 3], target: [u8; 3]) -> bool {
    p.iter()
        .zip(target)
        .map(|(&a, b)| (a as i32 - b as i32).abs())
        .sum::<i32>()
        <= 40
}

/// The text of every `<text>` element of an SVG, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split_once("</text>")?.0.trim().to_string())
        })
        .collect()
}

fn specs(names: &[&str]) -> Vec<Spec> {
    names.iter().map(|s| s.parse().unwrap()).collect()
}

fn race(landscape: &dyn Landscape, names: &[&str], steps: usize) -> Vec<Run> {
    Race {
        start: landscape.start(),
        steps,
        optimizers: specs(names),
        convention: Convention::Article,
        wrapping: Default::default(),
    }
    .run::<f64>(landscape)
    .unwrap()
}

#[test]
fn overlay_draws_every_run_in_its_own_colour() {
    let f = article();
    let runs = Race::article().run::<f64>(&f).unwrap();
    let image = Image::decode(&figure::overlay(&f, &runs, Format::Png).unwrap());
    let layout = overlay_layout(f.window(), runs.len()).unwrap();
    assert_eq!((image.width, image.height), (layout.width, layout.height));
    let panel = layout.panel;
    let plot = panel.plot;
    for (i, run) in runs.iter().enumerate() {
        let colour = series_rgb(i);
        // Each recorded point shows its run's colour within a pixel of where the
        // layout maps it, unless a later run's line or an end marker covers it, or the
        // minimum's + (drawn over every trail) does.
        let mut shown = 0;
        let mut checked = 0;
        let minimum = panel.to_pixel(0.0, 0.0);
        for p in &run.points {
            let (px, py) = panel.to_pixel(p.x, p.y);
            let (cx, cy) = (px.floor() as i32, py.floor() as i32);
            let (dx, dy) = ((px - minimum.0).abs(), (py - minimum.1).abs());
            if cx < plot.x + 3
                || cx >= plot.right() - 3
                || cy < plot.y + 3
                || cy >= plot.bottom() - 3
                || (dx <= 9.0 && dy <= 3.0)
                || (dy <= 9.0 && dx <= 3.0)
            {
                continue;
            }
            checked += 1;
            let near =
                (-1..=1).any(|dx| (-1..=1).any(|dy| close(image.pixel(cx + dx, cy + dy), colour)));
            shown += usize::from(near);
        }
        assert!(checked >= 20, "{}: {checked} points inside", run.name);
        // Two thirds: adagrad and adam both end along y = 0, where adam's line covers
        // adagrad's last points.
        assert!(
            shown * 3 >= checked * 2,
            "{}: {shown} of {checked} points show its colour",
            run.name
        );
        // Its legend swatch.
        let (lx, ly) = layout.legend;
        let swatch = image.pixel(lx as i32 + 4, (ly + 9.0) as i32 + 46 * i as i32);
        assert!(close(swatch, colour), "{}: swatch {swatch:?}", run.name);
    }
    // Nothing of a run's colour outside the plotting area but its legend swatch.
    for y in 0..image.height as i32 {
        for x in 0..layout.legend.0 as i32 - 4 {
            if plot.contains(x, y) {
                continue;
            }
            let p = image.pixel(x, y);
            assert!(
                !(0..runs.len()).any(|i| close(p, series_rgb(i))),
                "({x}, {y}) is {p:?}, outside the plot"
            );
        }
    }
}

#[test]
fn overlay_svg_names_every_run_and_its_end() {
    let f = builtin("rosenbrock").unwrap();
    let runs = race(
        &f,
        &["sgd:lr=0.01", "adam:lr=0.05", "nesterov:lr=0.0005"],
        200,
    );
    assert!(runs[0].diverged_at.is_some(), "sgd at 0.01 diverges here");
    let svg = String::from_utf8(figure::overlay(&f, &runs, Format::Svg).unwrap()).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let texts = texts(&svg);
    for name in ["sgd", "adam", "nesterov"] {
        assert!(texts.contains(&name.to_string()), "{name}: {texts:?}");
    }
    let d = runs[0].diverged_at.unwrap();
    assert!(texts.contains(&format!("lr=0.01, diverged at step {d}")));
    assert!(
        texts.contains(&format!(
            "lr=0.05, f = {} after 200 steps",
            svg_number(runs[1].last().loss)
        )),
        "{texts:?}"
    );
    for key in ["start", "end", "diverged", "minimum"] {
        assert!(texts.contains(&key.to_string()), "{key}");
    }
    for (i, _) in runs.iter().enumerate() {
        let [r, g, b] = series_rgb(i);
        assert!(
            svg.contains(&format!("#{r:02X}{g:02X}{b:02X}")),
            "run {i}'s colour"
        );
    }
}

/// The figures' three significant digits, with the typographic minus.
fn svg_number(x: f64) -> String {
    let a = x.abs();
    let text = if (1e-3..1e5).contains(&a) {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        let t = format!("{x:.decimals$}");
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    } else {
        let t = format!("{x:.2e}");
        let (m, e) = t.split_once('e').unwrap();
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        format!("{m}e{e}")
    };
    text.replace('-', "\u{2212}")
}

#[test]
fn loss_draws_one_line_per_run() {
    let f = builtin("himmelblau").unwrap();
    let runs = race(
        &f,
        &["sgd:lr=0.01", "momentum:lr=0.002", "adam:lr=0.2"],
        150,
    );
    let image = Image::decode(&figure::loss(&f, &runs, Format::Png).unwrap());
    assert!(image.width > 800 && image.height > 400);
    for i in 0..runs.len() {
        // A line across the plot (and the swatch): hundreds of pixels of its colour.
        let n = count(&image, series_rgb(i));
        assert!(n > 300, "run {i}: {n} pixels");
    }
    assert!(count(&image, series_rgb(3)) < 50, "no fourth line");
    let svg = String::from_utf8(figure::loss(&f, &runs, Format::Svg).unwrap()).unwrap();
    let texts = texts(&svg);
    assert!(texts.contains(&"f − f*, where f* = 0 is the minimum (log scale)".to_string()));
    assert!(texts.contains(&"step".to_string()), "{texts:?}");
}

#[test]
fn sensitivity_draws_each_optimizer_and_its_best_rate() {
    let f = article();
    let config = Tune {
        search: Search {
            coarse: 20,
            refine: 10,
            ..Search::default()
        },
        ..Tune::new(&f, 30)
    };
    let tuning = tune(&f, &specs(&["sgd", "adagrad"]), &config, &|| {}).unwrap();
    let image = Image::decode(&figure::sensitivity(&tuning, Format::Png).unwrap());
    for i in 0..2 {
        let n = count(&image, series_rgb(i));
        // 30 dots and the lines between them, its swatch and its best-rate marker.
        assert!(n > 150, "optimizer {i}: {n} pixels");
    }
    let svg = String::from_utf8(figure::sensitivity(&tuning, Format::Svg).unwrap()).unwrap();
    let texts = texts(&svg);
    let best = tuning.results[0].best();
    let detail = format!(
        "best lr={}: distance {}",
        svg_number(best.lr),
        svg_number(best.score)
    );
    assert!(texts.contains(&detail), "{detail}: {texts:?}");
    assert!(texts.contains(
        &"final distance to the nearest minimum (lower is better, log scale)".to_string()
    ));
}

#[test]
fn each_view_makes_its_files_in_every_format() {
    let f = article();
    let runs = Race::article().run::<f64>(&f).unwrap();
    let formats = [Format::Png, Format::Svg];
    let input = ViewInput {
        landscape: &f,
        runs: &runs,
        formats: &formats,
    };
    let names = |files: &[ViewFile]| files.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    let grid = View::Grid.files(&input).unwrap();
    assert_eq!(names(&grid), ["compare.png", "compare.svg"]);
    // The grid view is the article's figure, byte for byte.
    assert_eq!(grid[1].bytes, figure::grid(&f, &runs, Format::Svg).unwrap());
    let overlay = View::Overlay.files(&input).unwrap();
    assert_eq!(names(&overlay), ["overlay.png", "overlay.svg"]);
    assert_eq!(
        overlay[0].bytes,
        figure::overlay(&f, &runs, Format::Png).unwrap()
    );
    let loss = View::Loss.files(&input).unwrap();
    assert_eq!(names(&loss), ["loss.png", "loss.svg"]);
    assert_eq!(&loss[0].bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(figure::overlay(&f, &[], Format::Png).is_err());
}
