//! Everything that does not move, drawn once, anti-aliased: the formula, the contour
//! lines, axes, minima, the starts and the legend's swatches and specs.

use super::layout::{AnimationLayout, LEGEND_WIDTH, OUTER, START_RADIUS, TRAIL_WIDTH};
use crate::figure::contours::contour_lines;
use crate::figure::draw::geometry::clip_polyline;
use crate::figure::draw::raster::{Coverage, Image};
use crate::figure::draw::style::{self, contour_colour, series_rgb, FRAME_RGB, INK_RGB, WHITE_RGB};
use crate::figure::draw::text::{draw_on_rgb, ellipsize, text_width, Label};
use crate::figure::error::FigureError;
use crate::figure::layout::{nice_ticks, tick_label, Rect};
use crate::landscape::Landscape;
use crate::race::Run;
use plotters::style::text_anchor::HPos;
use plotters::style::FontStyle;

/// Everything that does not move: the formula, the contour lines, axes, minima, the
/// starts and the legend's swatches and specs.
pub(super) fn background(
    landscape: &dyn Landscape,
    runs: &[Run],
    layout: &AnimationLayout,
) -> Result<Image, FigureError> {
    let (w, h) = (layout.width, layout.height);
    let mut image = Image {
        width: w as usize,
        height: h as usize,
        rgb: vec![255; w as usize * h as usize * 3],
    };
    let panel = layout.panel;
    let plot = panel.plot;
    let window = panel.window;
    let whole = Rect {
        x: 0,
        y: 0,
        width: w,
        height: h,
    };

    let mut cover = Coverage::new(plot);
    let contours = contour_lines(landscape, window)?;
    for line in &contours {
        for ring in &line.rings {
            for piece in clip_polyline(ring, &window) {
                for s in piece.windows(2) {
                    cover.segment(
                        panel.to_pixel(s[0].0, s[0].1),
                        panel.to_pixel(s[1].0, s[1].1),
                        1.0,
                    );
                }
            }
        }
        let c = contour_colour(line.rank);
        cover.paint(&mut image, [c.0, c.1, c.2]);
    }
    // Contour labels, each on a white gap in its line (its text is drawn with the rest).
    let contour_labels = crate::figure::contour_labels::contour_labels(&contours, &panel)?;
    for label in &contour_labels {
        let (l, t, r, b) = label.bounds()?;
        for y in (t.floor() as usize)..(b.ceil() as usize) {
            for x in ((l - 2.0).floor() as usize)..((r + 2.0).ceil() as usize) {
                let i = (y * image.width + x) * 3;
                image.rgb[i..i + 3].fill(255);
            }
        }
    }
    for (x, y) in landscape.minima() {
        if window.contains(x, y) {
            let c = panel.to_pixel(x, y);
            for (colour, width, arm) in [(WHITE_RGB, 4.0, 8.0), (INK_RGB, 2.0, 7.0)] {
                cover.segment((c.0 - arm, c.1), (c.0 + arm, c.1), width);
                cover.segment((c.0, c.1 - arm), (c.0, c.1 + arm), width);
                cover.paint(&mut image, colour);
            }
        }
    }
    let mut starts: Vec<(f64, f64)> = Vec::new();
    for p in runs.iter().filter_map(|r| r.points.first()) {
        if window.contains(p.x, p.y) && !starts.contains(&(p.x, p.y)) {
            starts.push((p.x, p.y));
            cover.ring(panel.to_pixel(p.x, p.y), START_RADIUS, 2.0);
        }
    }
    cover.paint(&mut image, INK_RGB);

    // The frame and its outward ticks.
    let mut lines = Coverage::new(whole);
    let (l, t, r, b) = plot.edges();
    // On pixel centres, so that each side is one sharp pixel wide.
    let (fl, ft, fr, fb) = (l - 0.5, t - 0.5, r + 0.5, b + 0.5);
    let frame = [(fl, ft), (fr, ft), (fr, fb), (fl, fb), (fl, ft)];
    for s in frame.windows(2) {
        lines.segment(s[0], s[1], 1.0);
    }
    let mut texts: Vec<(String, f64, f64, HPos)> = Vec::new();
    let (x_ticks, x_step) = nice_ticks(
        window.x_min,
        window.x_max,
        (plot.width / 85).max(2) as usize,
    );
    for &v in &x_ticks {
        let x = panel.to_pixel(v, window.y_min).0;
        lines.segment((x, b), (x, b + 5.0), 1.0);
        texts.push((tick_label(v, x_step), x, b + 21.0, HPos::Center));
    }
    let (y_ticks, y_step) = nice_ticks(
        window.y_min,
        window.y_max,
        (plot.height / 85).max(3) as usize,
    );
    for &v in &y_ticks {
        let y = panel.to_pixel(window.x_min, v).1;
        lines.segment((l - 5.0, y), (l, y), 1.0);
        texts.push((tick_label(v, y_step), l - 9.0, y + 5.0, HPos::Right));
    }
    lines.paint(&mut image, FRAME_RGB);

    // The legend's swatches: a stretch of trail with a head.
    for i in 0..runs.len() {
        let e = layout.entry(i);
        let y = e.y as f64 + 12.0;
        let x = e.x as f64;
        lines.segment((x + 1.0, y), (x + 23.0, y), TRAIL_WIDTH);
        lines.disc((x + 12.0, y), 4.0);
        lines.paint(&mut image, series_rgb(i));
    }

    let formula = ellipsize(
        &format!("f(x, y) = {}", landscape.formula()),
        17.0,
        FontStyle::Bold,
        w as f64 - l - OUTER as f64,
    )?;
    let specs: Vec<String> = runs
        .iter()
        .map(|r| {
            ellipsize(
                &r.spec.to_string(),
                15.0,
                FontStyle::Normal,
                LEGEND_WIDTH as f64 - 30.0,
            )
        })
        .collect::<Result<_, _>>()?;
    let y_title_x = l
        - 9.0
        - texts
            .iter()
            .filter(|t| matches!(t.3, HPos::Right))
            .map(|t| text_width(&t.0, 13.5, FontStyle::Normal))
            .try_fold(0.0f64, |m, w| w.map(|w| m.max(w)))?
        - 12.0;
    let mut all: Vec<Label> = texts
        .iter()
        .map(|(text, x, baseline, align)| Label {
            text: text.clone(),
            x: *x,
            baseline: *baseline,
            size: 13.5,
            style: FontStyle::Normal,
            colour: style::INK,
            align: *align,
        })
        .collect();
    all.push(Label {
        text: formula,
        x: l,
        baseline: 27.0,
        size: 17.0,
        style: FontStyle::Bold,
        colour: style::INK,
        align: HPos::Left,
    });
    all.push(Label {
        text: "x".into(),
        x: (l + r) / 2.0,
        baseline: b + 42.0,
        size: 17.0,
        style: FontStyle::Italic,
        colour: style::INK,
        align: HPos::Center,
    });
    all.push(Label {
        text: "y".into(),
        x: y_title_x.max(OUTER as f64 + 6.0),
        baseline: (t + b) / 2.0 + 4.0,
        size: 17.0,
        style: FontStyle::Italic,
        colour: style::INK,
        align: HPos::Center,
    });
    for (i, spec) in specs.iter().enumerate() {
        let e = layout.entry(i);
        all.push(Label {
            text: spec.clone(),
            x: e.x as f64 + 30.0,
            baseline: e.y as f64 + 17.0,
            size: 15.0,
            style: FontStyle::Normal,
            colour: style::INK,
            align: HPos::Left,
        });
    }
    all.extend(contour_labels);
    draw_on_rgb(&mut image.rgb, w, h, (0, 0), &all)?;
    Ok(image)
}
