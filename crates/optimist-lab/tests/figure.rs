//! The comparison figure, decoded and checked pixel by pixel: its size, that it is not
//! blank, and that every panel shows its own run's trajectory where the layout says
//! and nothing of that colour anywhere else.

use optimist::Convention;
use optimist_lab::figure::{
    grid, grid_layout, Format, Layout, Panel, DIVERGED_RGB, TRAJECTORY_RGB,
};
use optimist_lab::landscape::{article, Landscape};
use optimist_lab::race::{Race, Run};

use crate::image;

use image::Image;

/// Within a small distance of `target`: anti-aliased edges, blended with the background,
/// are not counted, only the solid strokes and markers.
fn close(p: [u8; 3], target: [u8; 3]) -> bool {
    p.iter()
        .zip(target)
        .map(|(&a, b)| (a as i32 - b as i32).abs())
        .sum::<i32>()
        <= 60
}

fn is_trajectory(p: [u8; 3]) -> bool {
    close(p, TRAJECTORY_RGB)
}

fn article_runs() -> Vec<Run> {
    Race::article()
        .run::<f64>(&article())
        .expect("the article's race runs")
}

/// The points of `run` inside the panel's window (clear of its frame) whose pixel and
/// its four neighbours are not the trajectory colour. Points under the start ring or the
/// minimum's + (both drawn over the trajectory, so that they show whole) are not asked.
fn missing_points(image: &Image, panel: &Panel, run: &Run) -> Vec<(usize, f64, f64)> {
    let plot = panel.plot;
    let start = panel.to_pixel(run.points[0].x, run.points[0].y);
    let minimum = panel.to_pixel(0.0, 0.0);
    let clear = |x: i32, y: i32| {
        let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
        let on_ring = ((cx - start.0).hypot(cy - start.1) - 8.5).abs() <= 3.0;
        let (dx, dy) = ((cx - minimum.0).abs(), (cy - minimum.1).abs());
        let on_plus = (dx <= 9.0 && dy <= 3.0) || (dy <= 9.0 && dx <= 3.0);
        x >= plot.x + 2
            && x < plot.right() - 2
            && y >= plot.y + 2
            && y < plot.bottom() - 2
            && !on_ring
            && !on_plus
    };
    run.points
        .iter()
        .filter_map(|p| {
            let (px, py) = panel.to_pixel(p.x, p.y);
            let (x, y) = (px.floor() as i32, py.floor() as i32);
            if !clear(x, y) {
                return None;
            }
            let around = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)];
            let all = around
                .iter()
                .all(|(dx, dy)| is_trajectory(image.pixel(x + dx, y + dy)));
            (!all).then_some((p.step, p.x, p.y))
        })
        .collect()
}

/// Whether pixel centre (px, py) lies within `tol` pixels of the drawn trajectory of
/// `run`: of a point inside the window, or of a segment measured along the pixel's row
/// or column. Crossings are found from ratios, so ends like 1e150 stay exact enough.
fn near_trajectory(panel: &Panel, run: &Run, px: f64, py: f64, tol: f64) -> bool {
    let points: Vec<(f64, f64)> = run.points.iter().map(|p| (p.x, p.y)).collect();
    let near_point = points.iter().any(|&(x, y)| {
        let (qx, qy) = panel.to_pixel(x, y);
        (qx - px).hypot(qy - py) <= tol
    });
    if near_point {
        return true;
    }
    let (x, y) = panel.to_data(px, py);
    points.windows(2).any(|s| {
        let ((ax, ay), (bx, by)) = (s[0], s[1]);
        let along_row = (ay.min(by)..=ay.max(by)).contains(&y) && ay != by && {
            let t = (y - ay) / (by - ay);
            (panel.to_pixel(ax + t * (bx - ax), y).0 - px).abs() <= tol
        };
        let along_column = (ax.min(bx)..=ax.max(bx)).contains(&x) && ax != bx && {
            let t = (x - ax) / (bx - ax);
            (panel.to_pixel(x, ay + t * (by - ay)).1 - py).abs() <= tol
        };
        along_row || along_column
    })
}

/// Trajectory-coloured pixels of panel `i`'s plotting area that are not near `run`.
fn stray_pixels(image: &Image, panel: &Panel, run: &Run) -> Vec<(i32, i32)> {
    image
        .pixels()
        .filter(|&(x, y, p)| panel.plot.contains(x, y) && is_trajectory(p))
        .filter(|&(x, y, _)| !near_trajectory(panel, run, x as f64 + 0.5, y as f64 + 0.5, 9.0))
        .map(|(x, y, _)| (x, y))
        .collect()
}

/// Every check of a figure's trajectories: each panel's run drawn at its points, no
/// trajectory colour away from it, none outside the plotting areas below the header.
fn check_trajectories(image: &Image, layout: &Layout, runs: &[Run]) {
    assert_eq!(layout.panels.len(), runs.len());
    for (i, (panel, run)) in layout.panels.iter().zip(runs).enumerate() {
        let missing = missing_points(image, panel, run);
        assert!(
            missing.is_empty(),
            "panel {i} ({}): points not drawn: {missing:?}",
            run.name
        );
        let stray = stray_pixels(image, panel, run);
        assert!(
            stray.is_empty(),
            "panel {i} ({}): {} stray pixels, e.g. {:?}",
            run.name,
            stray.len(),
            &stray[..stray.len().min(5)]
        );
    }
    let outside: Vec<(i32, i32)> = image
        .pixels()
        .filter(|&(x, y, p)| {
            is_trajectory(p)
                && !layout.header.contains(x, y)
                && !layout.panels.iter().any(|q| q.plot.contains(x, y))
        })
        .map(|(x, y, _)| (x, y))
        .collect();
    assert!(
        outside.is_empty(),
        "trajectory colour outside the plots: {:?}",
        &outside[..outside.len().min(5)]
    );
}

#[test]
fn article_figure_has_each_trajectory_in_its_panel() {
    let runs = article_runs();
    let bytes = grid(&article(), &runs, Format::Png).unwrap();
    let image = Image::decode(&bytes);
    let layout = grid_layout(runs.len(), article().window()).unwrap();
    assert_eq!((image.width, image.height), (layout.width, layout.height));
    assert_eq!(layout.columns, 2);
    assert_eq!(image.rgb.len(), (layout.width * layout.height * 3) as usize);

    // Not blank: many colours, a good share of ink.
    let mut colours: Vec<[u8; 3]> = image.pixels().map(|(_, _, p)| p).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 500, "{} colours", colours.len());
    let inked = image
        .pixels()
        .filter(|&(_, _, p)| p != [255, 255, 255])
        .count();
    assert!(
        inked * 50 > (layout.width * layout.height) as usize,
        "{inked} non-white pixels"
    );
    for (i, panel) in layout.panels.iter().enumerate() {
        // Contour lines: coloured pixels that are neither trajectory nor grey ink.
        let contour = image
            .pixels()
            .filter(|&(x, y, p)| {
                let spread = p.iter().max().unwrap() - p.iter().min().unwrap();
                panel.plot.contains(x, y) && !is_trajectory(p) && spread > 25
            })
            .count();
        assert!(contour > 3000, "panel {i}: {contour} contour pixels");
        // A title: dark text above the plotting area.
        let title = image
            .pixels()
            .filter(|&(x, y, p)| {
                panel.cell.contains(x, y) && y < panel.plot.y && p.iter().all(|&c| c < 110)
            })
            .count();
        assert!(title > 150, "panel {i}: {title} title pixels");
    }

    check_trajectories(&image, &layout, &runs);

    // The checks tell runs apart: every other run's points miss in this panel.
    for (i, panel) in layout.panels.iter().enumerate() {
        for (j, other) in runs.iter().enumerate() {
            if i != j {
                assert!(
                    !missing_points(&image, panel, other).is_empty(),
                    "{} would pass in {}'s panel",
                    other.name,
                    runs[i].name
                );
                assert!(!stray_pixels(&image, panel, other).is_empty());
            }
        }
    }
}

#[test]
fn one_run_makes_one_panel() {
    let runs = article_runs();
    let adam = &runs[3..];
    let image = Image::decode(&grid(&article(), adam, Format::Png).unwrap());
    let layout = grid_layout(1, article().window()).unwrap();
    assert_eq!(layout.columns, 1);
    assert_eq!((image.width, image.height), (layout.width, layout.height));
    let four = grid_layout(4, article().window()).unwrap();
    assert!(layout.width < four.width && layout.height < four.height);
    check_trajectories(&image, &layout, adam);
}

#[test]
fn diverged_run_is_clipped_and_says_so() {
    // lr = 1.05 multiplies y by −1.1 each step: it leaves the window after ~17 steps and
    // overflows thousands of steps later.
    let race = Race {
        start: (-7.0, 2.0),
        steps: 5000,
        optimizers: vec![
            "sgd:lr=1.05".parse().unwrap(),
            "sgd:lr=0.1".parse().unwrap(),
        ],
        convention: Convention::Article,
        wrapping: Default::default(),
    };
    let runs = race.run::<f64>(&article()).unwrap();
    let k = runs[0].diverged_at.expect("sgd lr=1.05 diverges");
    assert!(runs[0].points.iter().any(|p| p.y.abs() > 1e100));
    assert!(runs[1].diverged_at.is_none());

    let image = Image::decode(&grid(&article(), &runs, Format::Png).unwrap());
    let layout = grid_layout(2, article().window()).unwrap();
    assert_eq!((image.width, image.height), (layout.width, layout.height));
    check_trajectories(&image, &layout, &runs);
    // Its segments cross the whole window: trajectory colour next to the top and
    // bottom edges of its plotting area, and not of the other.
    for (panel, expected) in layout.panels.iter().zip([true, false]) {
        let edge_rows = [panel.plot.y + 2, panel.plot.bottom() - 3];
        for row in edge_rows {
            let hit =
                (panel.plot.x..panel.plot.right()).any(|x| is_trajectory(image.pixel(x, row)));
            assert_eq!(hit, expected, "row {row}");
        }
    }
    // "diverged at step k" in the title of the first panel only.
    for (panel, expected) in layout.panels.iter().zip([true, false]) {
        let warned = image
            .pixels()
            .filter(|&(x, y, p)| {
                panel.cell.contains(x, y) && y < panel.plot.y && close(p, DIVERGED_RGB)
            })
            .count();
        assert_eq!(warned > 40, expected, "{warned} warning pixels");
    }
    let svg = String::from_utf8(grid(&article(), &runs, Format::Svg).unwrap()).unwrap();
    assert!(svg.contains(&format!("diverged at step {k}")));
    assert!(svg.contains("end outside the window"));
}

#[test]
fn markers_on_the_window_edge_are_cut_at_the_frame() {
    // Along the right edge, then the bottom edge, then beyond the corner and back in.
    let along = |k: usize, x: f64, y: f64| optimist_lab::race::Point {
        step: k,
        x,
        y,
        loss: article().value(x, y),
    };
    let mut points: Vec<_> = (0..9)
        .map(|k| along(k, 10.0, 8.0 - 2.0 * k as f64))
        .collect();
    points.extend((0..9).map(|k| along(9 + k, 8.0 - 2.0 * k as f64, -10.0)));
    points.push(along(18, -30.0, -40.0));
    points.push(along(19, -5.0, 5.0));
    let run = Run {
        spec: "sgd:lr=0.1".parse().unwrap(),
        name: "edge".into(),
        label: "edge".into(),
        hyperparameters: vec![("lr".into(), "0.1".into())],
        points,
        diverged_at: None,
    };
    let runs = [run];
    let image = Image::decode(&grid(&article(), &runs, Format::Png).unwrap());
    let layout = grid_layout(1, article().window()).unwrap();
    check_trajectories(&image, &layout, &runs);
    // The inner halves of the markers on the edges are there.
    let panel = &layout.panels[0];
    for p in &runs[0].points[..18] {
        let (px, py) = panel.to_pixel(p.x, p.y);
        let (x, y) = (px.floor() as i32, py.floor() as i32);
        let inward = if p.x == 10.0 { (x - 2, y) } else { (x, y - 2) };
        assert!(
            is_trajectory(image.pixel(inward.0, inward.1)),
            "step {}",
            p.step
        );
    }
}

/// The attributes of every `<tag ...>` in `svg`, after checking that tags nest properly
/// and text holds no raw `<` or `&`.
fn svg_elements(svg: &str) -> Vec<(String, String)> {
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut rest = svg.trim();
    assert!(rest.starts_with("<svg"), "{}", &rest[..rest.len().min(40)]);
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(!text.contains('>'), "stray > in {text:?}");
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..text.len().min(i + 6)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "{entity:?}"
            );
        }
        let close = rest[open..].find('>').expect("a closed tag") + open;
        let tag = &rest[open + 1..close];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else {
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(!name.is_empty(), "<{tag}>");
            if !tag.ends_with('/') {
                stack.push(name.clone());
            }
            out.push((name, tag.to_string()));
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert!(rest.trim().is_empty());
    out
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

#[test]
fn svg_is_well_formed_with_one_polyline_per_trajectory() {
    let runs = article_runs();
    let svg = String::from_utf8(grid(&article(), &runs, Format::Svg).unwrap()).unwrap();
    let layout = grid_layout(runs.len(), article().window()).unwrap();
    let elements = svg_elements(&svg);
    let root = &elements[0].1;
    assert_eq!(
        attribute(root, "width"),
        Some(layout.width.to_string().as_str())
    );
    assert_eq!(
        attribute(root, "height"),
        Some(layout.height.to_string().as_str())
    );

    let red = format!(
        "#{:02X}{:02X}{:02X}",
        TRAJECTORY_RGB[0], TRAJECTORY_RGB[1], TRAJECTORY_RGB[2]
    );
    let polylines: Vec<Vec<(f64, f64)>> = elements
        .iter()
        .filter(|(name, tag)| name == "polyline" && attribute(tag, "stroke") == Some(red.as_str()))
        .map(|(_, tag)| {
            attribute(tag, "points")
                .unwrap()
                .split_whitespace()
                .map(|xy| {
                    let (x, y) = xy.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect();
    for (panel, run) in layout.panels.iter().zip(&runs) {
        let inside = |&(x, y): &(f64, f64)| panel.plot.contains(x as i32, y as i32);
        let mine: Vec<&Vec<(f64, f64)>> =
            polylines.iter().filter(|l| l.iter().all(inside)).collect();
        assert_eq!(mine.len(), 1, "{}: {} polylines", run.name, mine.len());
        let line = mine[0];
        let expected: Vec<(f64, f64)> = run
            .points
            .iter()
            .map(|p| panel.to_pixel(p.x, p.y))
            .collect();
        let near = |a: &(f64, f64), b: &(f64, f64)| (a.0 - b.0).hypot(a.1 - b.1) <= 1.5;
        // Every vertex is a point of the run, every point of the run is near a vertex
        // (points closer than half a pixel are merged), in order from start to end.
        assert!(line.iter().all(|v| expected.iter().any(|p| near(v, p))));
        assert!(expected.iter().all(|p| line.iter().any(|v| near(v, p))));
        assert!(
            near(&line[0], &expected[0]) && near(line.last().unwrap(), expected.last().unwrap())
        );
        assert!(
            svg.contains(&format!(">\n{}\n</text>", run.name)),
            "title {}",
            run.name
        );
        assert!(
            svg.contains(&run.hyperparameter_text()),
            "{}",
            run.hyperparameter_text()
        );
    }
}

#[test]
fn format_names() {
    assert_eq!("svg".parse::<Format>().unwrap(), Format::Svg);
    let e = "gif".parse::<Format>().unwrap_err().to_string();
    assert!(e.contains("png") && e.contains("svg"), "{e}");
}
