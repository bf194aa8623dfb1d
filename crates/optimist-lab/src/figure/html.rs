//! The race as one self-contained web page, in the spirit of Distill's "Why Momentum
//! Really Works": the contour plot with every trajectory, a step slider (of a fixed
//! width) and a play button, opening at step 0, a toggle per optimizer, each one's
//! position, loss and hyperparameters at the step shown, a small chart of f against
//! the step linked to the slider, an arrowhead where a trail leaves the window, and
//! the values under the pointer with the nearest trail point ringed.
//!
//! The contour lines are computed here, as for the other figures, and embedded with the
//! trajectories and a grid of f as JSON; inline script and style draw them on a canvas.
//! Nothing is fetched: the page works offline, from a file.
//!
//! Elements the tests (and users' scripts) rely on have stable ids: `plot` (the canvas),
//! `step` (the slider), `step-label`, `play`, `runs` (the table), and for run `i`,
//! `toggle-i`, `x-i`, `y-i`, `f-i`, `status-i` and `hyper-i`; the pointer readout is
//! `pointer-x`, `pointer-y` and `pointer-f`, the nearest trail point `nearest` (the
//! plot's `data-highlight` is then `i:step`); the loss chart is `loss` (its
//! `data-cursor` the x of the step shown). The body gets `data-ready="true"` once
//! drawn.

use super::contours::contour_lines;
use super::draw::geometry::clip_polyline;
use super::draw::style::{contour_colour, series_rgb};
use super::error::FigureError;
use super::gif::spread_steps;
use super::layout::{grid_layout, nice_ticks, short_number, tick_label};
use crate::landscape::Landscape;
use crate::race::Run;
use serde_json::{json, Value};

/// The most steps a page holds: longer races keep this many, evenly spread (with each
/// run's last position), so the page stays a few megabytes at most.
pub const MAX_PAGE_STEPS: usize = 5000;

/// Samples per side of the grid of f from which the pointer readout interpolates.
pub const VALUE_GRID: usize = 201;

/// Contour points are stored as integers from 0 to this across the window: exact to a
/// hundredth of a pixel, and a third of the size of full numbers.
pub const CONTOUR_QUANTUM: f64 = 50_000.0;

/// Room around the plotting area on the canvas, in CSS pixels: left, top, right, bottom.
const MARGINS: (u32, u32, u32, u32) = (62, 12, 16, 52);

/// The page, with everything inline.
const TEMPLATE: &str = include_str!("page.html");

/// The interactive page of `runs` on `landscape`, as HTML text.
pub fn page(landscape: &dyn Landscape, runs: &[Run]) -> Result<String, FigureError> {
    let window = landscape.window();
    // The grid figure's layout checks the window and keeps its aspect ratio.
    let plot = grid_layout(runs.len(), window)?.panels[0].plot;
    let (left, top, right, bottom) = MARGINS;

    let last_step = runs.iter().map(end_step).max().unwrap_or(0);
    let steps = spread_steps(last_step, MAX_PAGE_STEPS + 1);

    let contours = contour_rings(landscape)?;

    let ticks = |lo: f64, hi: f64, pixels: u32| -> Vec<Value> {
        let (values, step) = nice_ticks(lo, hi, (pixels / 85).max(3) as usize);
        values
            .iter()
            .map(|&v| json!([v, tick_label(v, step)]))
            .collect()
    };

    let mut starts: Vec<(f64, f64)> = Vec::new();
    for p in runs.iter().filter_map(|r| r.points.first()) {
        if window.contains(p.x, p.y) && !starts.contains(&(p.x, p.y)) {
            starts.push((p.x, p.y));
        }
    }
    let minima: Vec<(f64, f64)> = landscape
        .minima()
        .into_iter()
        .filter(|&(x, y)| window.contains(x, y))
        .collect();

    let runs_data: Vec<Value> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| run_data(i, run, &steps))
        .collect();

    let data = json!({
        "title": format!("f(x, y) = {}", landscape.formula()),
        "subtitle": subtitle(runs, last_step, steps.len()),
        "window": [window.x_min, window.x_max, window.y_min, window.y_max],
        "plot": {
            "left": left,
            "top": top,
            "width": plot.width,
            "height": plot.height,
            "canvasWidth": left + plot.width + right,
            "canvasHeight": top + plot.height + bottom,
        },
        "quantum": CONTOUR_QUANTUM,
        "contours": contours,
        "xTicks": ticks(window.x_min, window.x_max, plot.width),
        "yTicks": ticks(window.y_min, window.y_max, plot.height),
        "minima": minima,
        "starts": starts,
        "grid": { "samples": VALUE_GRID, "values": value_grid(landscape) },
        "steps": steps,
        "runs": runs_data,
    });
    // Inside a script element only "</" could end it early; JSON allows "<" escaped.
    let json = data.to_string().replace('<', "\\u003c");
    let (head, tail) = TEMPLATE
        .split_once("{{DATA}}")
        .ok_or_else(|| FigureError::Draw("the page template has no data slot".into()))?;
    Ok(format!("{head}{json}{tail}"))
}

/// The contour lines of `landscape` in its window, as the html view embeds them: each
/// `{colour: "#rrggbb", rings: [[x0, y0, x1, y1, ...], ...]}`, the points as integers
/// from 0 to [`CONTOUR_QUANTUM`] across the window (x from `x_min`, y from `y_min`).
/// Pages that draw a landscape (the html view, `optimist serve`) take them from here.
pub fn contour_rings(landscape: &dyn Landscape) -> Result<Vec<Value>, FigureError> {
    let window = landscape.window();
    let contours: Vec<Value> = contour_lines(landscape, window)?
        .iter()
        .map(|line| {
            let c = contour_colour(line.rank);
            let quantize =
                |v: f64, lo: f64, hi: f64| ((v - lo) / (hi - lo) * CONTOUR_QUANTUM).round() as i64;
            let rings: Vec<Vec<i64>> = line
                .rings
                .iter()
                .flat_map(|ring| clip_polyline(ring, &window))
                .map(|piece| {
                    piece
                        .iter()
                        .flat_map(|&(x, y)| {
                            [
                                quantize(x, window.x_min, window.x_max),
                                quantize(y, window.y_min, window.y_max),
                            ]
                        })
                        .collect()
                })
                .collect();
            json!({ "colour": hex([c.0, c.1, c.2]), "rings": rings })
        })
        .collect();
    Ok(contours)
}

/// The step at which a run stops: its last position's, or the one it diverged at.
fn end_step(run: &Run) -> usize {
    match (run.diverged_at, run.points.last()) {
        (Some(k), _) => k,
        (None, Some(p)) => p.step,
        (None, None) => 0,
    }
}

/// "from (−7, 2), 30 steps", and how sparse the steps shown are when the race is long.
fn subtitle(runs: &[Run], last_step: usize, shown: usize) -> String {
    let starts: Vec<(f64, f64)> = runs
        .iter()
        .filter_map(|r| r.points.first().map(|p| (p.x, p.y)))
        .collect();
    let mut parts = Vec::new();
    if let Some(&(x, y)) = starts.first() {
        if starts.iter().all(|&s| s == (x, y)) {
            parts.push(format!("from ({}, {})", short_number(x), short_number(y)));
        }
    }
    let steps = if last_step == 1 { "step" } else { "steps" };
    parts.push(format!("{last_step} {steps}"));
    if shown < last_step + 1 {
        parts.push(format!("{shown} of them shown"));
    }
    parts.join(", ")
}

/// One run for the page: its label and colour, and its positions at the `steps` shown
/// (plus its last one, so a run that diverged ends where it did).
fn run_data(index: usize, run: &Run, steps: &[usize]) -> Value {
    let mut kept: Vec<usize> = Vec::new();
    let mut s = 0;
    for (k, p) in run.points.iter().enumerate() {
        while s < steps.len() && steps[s] < p.step {
            s += 1;
        }
        let shown = s < steps.len() && steps[s] == p.step;
        if shown || k + 1 == run.points.len() {
            kept.push(k);
        }
    }
    let pick = |f: fn(&crate::race::Point) -> f64| -> Vec<f64> {
        kept.iter().map(|&k| f(&run.points[k])).collect()
    };
    json!({
        // The run's name as the CSV, the table and the other figures give it (a
        // spec's own `label=` included).
        "label": run.label,
        "name": run.name,
        "hyperparameters": run.hyperparameter_text(),
        "colour": hex(series_rgb(index)),
        "diverged": run.diverged_at,
        "steps": kept.iter().map(|&k| run.points[k].step).collect::<Vec<_>>(),
        "x": pick(|p| p.x),
        "y": pick(|p| p.y),
        "f": pick(|p| p.loss),
    })
}

/// `#rrggbb`.
fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// f on a [`VALUE_GRID`]² grid over the window, row by row from `y_min`, as
/// little-endian float32 in base64.
fn value_grid(landscape: &dyn Landscape) -> String {
    let w = landscape.window();
    let n = VALUE_GRID;
    let mut bytes = Vec::with_capacity(n * n * 4);
    for j in 0..n {
        let y = w.y_min + (w.y_max - w.y_min) * j as f64 / (n - 1) as f64;
        for i in 0..n {
            let x = w.x_min + (w.x_max - w.x_min) * i as f64 / (n - 1) as f64;
            bytes.extend_from_slice(&(landscape.value(x, y) as f32).to_le_bytes());
        }
    }
    base64(&bytes)
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::builtin;
    use crate::race::Race;

    /// The JSON the page embeds.
    fn embedded(html: &str) -> Value {
        let start = html
            .find(r#"<script type="application/json" id="data">"#)
            .unwrap();
        let rest = &html[start..];
        let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
        serde_json::from_str(body).unwrap()
    }

    /// The numbers of run `index`'s array `key`, as written in the page.
    fn numbers(html: &str, key: &str, index: usize) -> Vec<f64> {
        let opening = format!("\"{key}\":[");
        let at = html.match_indices(&opening).nth(index).unwrap().0 + opening.len();
        let text = &html[at..at + html[at..].find(']').unwrap()];
        text.split(',').map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00, 0x3e]), "//4APg==");
    }

    #[test]
    fn the_page_holds_every_run_and_nothing_from_outside() {
        let article = builtin("article").unwrap();
        let runs = Race::article().run::<f64>(&article).unwrap();
        let html = page(&article, &runs).unwrap();
        // Self-contained: no address to fetch anything from.
        for outside in ["http:", "https:", "src=", "href=", "@import", "url("] {
            assert!(!html.contains(outside), "the page mentions {outside}");
        }
        let data = embedded(&html);
        assert_eq!(data["title"], "f(x, y) = x²/20 + y²");
        assert_eq!(data["subtitle"], "from (−7, 2), 30 steps");
        assert_eq!(data["steps"].as_array().unwrap().len(), 31);
        assert_eq!(
            data["contours"].as_array().unwrap().len(),
            super::super::contours::LEVELS
        );
        let shown = data["runs"].as_array().unwrap();
        assert_eq!(shown.len(), 4);
        for (i, (run, json)) in runs.iter().zip(shown).enumerate() {
            assert_eq!(json["label"], run.label);
            assert_eq!(json["colour"], hex(series_rgb(i)));
            // Every position, to the bit (read as the browser reads it, correctly rounded,
            // which serde_json's own parser is not).
            let x = numbers(&html, "x", i);
            let f = numbers(&html, "f", i);
            assert_eq!(x, run.points.iter().map(|p| p.x).collect::<Vec<_>>());
            assert_eq!(f, run.points.iter().map(|p| p.loss).collect::<Vec<_>>());
        }
        // The value grid decodes to f at its corners.
        let grid = &data["grid"]["values"];
        assert_eq!(
            grid.as_str().unwrap().len(),
            (VALUE_GRID * VALUE_GRID * 4).div_ceil(3) * 4
        );
        let corner = (article.value(-10.0, -10.0) as f32).to_le_bytes();
        assert_eq!(&grid.as_str().unwrap()[..4], base64(&corner[..3]));
    }

    #[test]
    fn long_races_are_thinned_but_keep_their_ends() {
        let article = builtin("article").unwrap();
        let mut race = Race::article();
        race.steps = 12_345;
        race.optimizers = vec!["sgd:lr=0.01".parse().unwrap(), "sgd:lr=2".parse().unwrap()];
        let runs = race.run::<f64>(&article).unwrap();
        let diverged = runs[1].diverged_at.unwrap();
        let data = embedded(&page(&article, &runs).unwrap());
        let steps: Vec<usize> = serde_json::from_value(data["steps"].clone()).unwrap();
        assert_eq!(steps.len(), MAX_PAGE_STEPS + 1);
        assert_eq!((steps[0], *steps.last().unwrap()), (0, 12_345));
        let kept: Vec<usize> = serde_json::from_value(data["runs"][0]["steps"].clone()).unwrap();
        assert_eq!(kept, steps);
        // The diverging run keeps its last finite position, whatever the spacing.
        let kept: Vec<usize> = serde_json::from_value(data["runs"][1]["steps"].clone()).unwrap();
        assert_eq!(*kept.last().unwrap(), diverged - 1);
        assert_eq!(data["runs"][1]["diverged"], diverged);
        assert!(data["subtitle"]
            .as_str()
            .unwrap()
            .ends_with("5001 of them shown"));
    }

    #[test]
    fn text_cannot_close_the_script() {
        let article = builtin("article").unwrap();
        let mut runs = Race::article().run::<f64>(&article).unwrap();
        runs[0].label = "</script><b>".into();
        let html = page(&article, &runs).unwrap();
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "the data block and the code"
        );
        assert_eq!(embedded(&html)["runs"][0]["label"], "</script><b>");
        assert_eq!(page(&article, &[]).unwrap_err(), FigureError::NoRuns);
    }

    /// The page once named runs by their spec (`sgd:lr=0.95`) where the CSV, the
    /// table and the other figures give the spec's `label=` (`slow`).
    #[test]
    fn runs_are_named_by_their_label() {
        let article = builtin("article").unwrap();
        let mut race = Race::article();
        race.optimizers = vec![
            "sgd:lr=0.95,label=slow".parse().unwrap(),
            "adam:lr=0.3".parse().unwrap(),
        ];
        let runs = race.run::<f64>(&article).unwrap();
        let data = embedded(&page(&article, &runs).unwrap());
        assert_eq!(data["runs"][0]["label"], "slow");
        assert_eq!(data["runs"][1]["label"], "adam");
        let csv = crate::output::trajectories_csv(&runs);
        assert!(
            csv.contains("\nslow,0,") && csv.contains("\nadam,0,"),
            "{csv}"
        );
    }
}
