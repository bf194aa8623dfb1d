//! The race animation, decoded frame by frame and checked pixel by pixel: one frame per
//! step, each trail in its own colour drawn up to the frame's step and no further, the
//! heads where the optimizers are, the legend, the timing and the loop.

use optimist_lab::figure::{
    animation, animation_layout, animation_until, frame_delay, frame_steps, series_rgb,
    AnimationLayout, FigureError, DIVERGED_RGB, FIRST_DELAY, LAST_DELAY, MAX_FRAMES,
};
use optimist_lab::landscape::{builtin, Builtin, Landscape};
use optimist_lab::race::{Race, Run};
use std::time::Instant;

/// One frame as shown: the canvas after it was drawn over the previous ones.
struct Shown {
    rgb: Vec<u8>,
    delay: u16,
}

/// A stored frame's box: left, top, width, height.
type Stored = (u16, u16, u16, u16);

struct Animation {
    width: usize,
    height: usize,
    frames: Vec<Shown>,
    /// Each stored frame's box and transparent index.
    boxes: Vec<(Stored, Option<u8>)>,
    repeat: gif::Repeat,
}

impl Animation {
    fn decode(bytes: &[u8]) -> Animation {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::Indexed);
        let mut decoder = options.read_info(bytes).expect("a GIF header");
        let (width, height) = (decoder.width() as usize, decoder.height() as usize);
        let palette = decoder.global_palette().expect("a global palette").to_vec();
        let mut canvas = vec![0u8; width * height * 3];
        let mut frames = Vec::new();
        let mut boxes = Vec::new();
        while let Some(f) = decoder.read_next_frame().expect("a frame") {
            assert!(f.palette.is_none(), "frames share the global palette");
            assert_eq!(f.dispose, gif::DisposalMethod::Keep);
            for y in 0..f.height as usize {
                for x in 0..f.width as usize {
                    let i = f.buffer[y * f.width as usize + x];
                    if Some(i) == f.transparent {
                        continue;
                    }
                    let p = ((y + f.top as usize) * width + x + f.left as usize) * 3;
                    canvas[p..p + 3].copy_from_slice(&palette[i as usize * 3..i as usize * 3 + 3]);
                }
            }
            boxes.push(((f.left, f.top, f.width, f.height), f.transparent));
            frames.push(Shown {
                rgb: canvas.clone(),
                delay: f.delay,
            });
        }
        Animation {
            width,
            height,
            frames,
            boxes,
            repeat: decoder.repeat(),
        }
    }

    fn pixel(&self, frame: usize, x: i32, y: i32) -> [u8; 3] {
        let i = (y as usize * self.width + x as usize) * 3;
        let rgb = &self.frames[frame].rgb;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    }
}

/// Within a small distance of `target`: only solid strokes, not edges blended with
/// what is under them.
fn close(p: [u8; 3], target: [u8; 3]) -> bool {
    let d: i32 = p
        .iter()
        .zip(target)
        .map(|(&a, b)| (a as i32 - b as i32).pow(2))
        .sum();
    d <= 30 * 30
}

fn article() -> Builtin {
    builtin("article").expect("the article's landscape")
}

fn article_runs() -> Vec<Run> {
    Race::article()
        .run::<f64>(&article())
        .expect("the article's race runs")
}

/// Distance from `p` to the polyline through `points` (pixels).
fn distance_to_path(points: &[(f64, f64)], p: (f64, f64)) -> f64 {
    let to_segment = |a: (f64, f64), b: (f64, f64)| {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 {
            (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
    };
    let first = points.first().map_or(f64::MAX, |&a| to_segment(a, a));
    points
        .windows(2)
        .map(|s| to_segment(s[0], s[1]))
        .fold(first, f64::min)
}

/// Run `run`'s positions up to `step`, in pixels.
fn path(layout: &AnimationLayout, run: &Run, step: usize) -> Vec<(f64, f64)> {
    run.points
        .iter()
        .filter(|p| p.step <= step)
        .map(|p| layout.panel.to_pixel(p.x, p.y))
        .collect()
}

#[test]
fn the_article_race_has_a_frame_per_step_and_loops() {
    let runs = article_runs();
    let started = Instant::now();
    let bytes = animation(&article(), &runs).unwrap();
    let took = started.elapsed();
    println!("article race: {} bytes, rendered in {took:?}", bytes.len());
    // Small enough to put in a README, and quick.
    assert!(bytes.len() < 250_000, "{} bytes", bytes.len());

    let gif = Animation::decode(&bytes);
    let layout = animation_layout(article().window(), runs.len()).unwrap();
    assert_eq!(
        (gif.width, gif.height),
        (layout.width as usize, layout.height as usize)
    );
    assert_eq!(gif.repeat, gif::Repeat::Infinite);
    assert_eq!(frame_steps(30), (0..=30).collect::<Vec<_>>());
    assert_eq!(
        gif.frames.len(),
        31,
        "one frame per step, the start included"
    );

    // The first frame is whole; the others store only what changed, over a transparent
    // index, in a box much smaller than the canvas.
    let (first, transparent) = gif.boxes[0];
    assert_eq!(first, (0, 0, layout.width as u16, layout.height as u16));
    assert_eq!(transparent, None);
    let canvas = layout.width as usize * layout.height as usize;
    for &((_, _, w, h), transparent) in &gif.boxes[1..] {
        assert!(transparent.is_some());
        assert!(
            (w as usize * h as usize) < canvas / 2,
            "a {w} × {h} difference"
        );
    }

    let delays: Vec<u16> = gif.frames.iter().map(|f| f.delay).collect();
    assert_eq!(delays[0], FIRST_DELAY);
    assert_eq!(delays[30], LAST_DELAY);
    assert!(delays[1..30].iter().all(|&d| d == frame_delay(31)));
    assert_eq!(frame_delay(31), 15);
    assert_eq!(frame_delay(MAX_FRAMES), 4);
}

#[test]
fn each_frame_shows_every_trail_up_to_its_step_and_the_heads_there() {
    let runs = article_runs();
    let gif = Animation::decode(&animation(&article(), &runs).unwrap());
    let layout = animation_layout(article().window(), runs.len()).unwrap();
    let plot = layout.panel.plot;
    // Trails are 2.5 px wide and heads 5.5 px in radius, anti-aliased over a pixel; a
    // head stacked under n later ones (within a pixel) is 3n px wider.
    let trail_reach = 1.25 + 1.0;
    let head_reach = |heads: &[(f64, f64)], i: usize| {
        let stacked = (i + 1..heads.len())
            .filter(|&j| (heads[j].0 - heads[i].0).hypot(heads[j].1 - heads[i].1) < 1.0)
            .count();
        5.5 + 3.0 * stacked as f64 + 1.5
    };

    for (frame, step) in frame_steps(30).into_iter().enumerate() {
        let paths: Vec<Vec<(f64, f64)>> = runs.iter().map(|r| path(&layout, r, step)).collect();
        let heads: Vec<(f64, f64)> = paths.iter().map(|p| *p.last().unwrap()).collect();
        for (i, run) in runs.iter().enumerate() {
            let colour = series_rgb(i);
            // Nothing of the run's colour beyond its trail so far and its head.
            let mut count = 0;
            for y in plot.y..plot.bottom() {
                for x in plot.x..plot.right() {
                    if !close(gif.pixel(frame, x, y), colour) {
                        continue;
                    }
                    count += 1;
                    let c = (x as f64 + 0.5, y as f64 + 0.5);
                    let near_trail = distance_to_path(&paths[i], c) <= trail_reach;
                    let near_head =
                        (c.0 - heads[i].0).hypot(c.1 - heads[i].1) <= head_reach(&heads, i);
                    assert!(
                        near_trail || near_head,
                        "frame {frame}: {} colour at ({x}, {y}), away from its trail",
                        run.name
                    );
                }
            }
            // Every position so far is on the trail, unless a later run's trail or any
            // other run's head (heads go over all trails) is drawn over it.
            let covered = |p: (f64, f64)| {
                let trail = (i + 1..runs.len())
                    .any(|j| distance_to_path(&paths[j], p) <= trail_reach + 1.5);
                let head = (0..runs.len()).any(|j| {
                    j != i
                        && (p.0 - heads[j].0).hypot(p.1 - heads[j].1) <= head_reach(&heads, j) + 1.5
                });
                trail || head
            };
            let mut seen = 0;
            for &(px, py) in &paths[i] {
                let (x, y) = (px.floor() as i32, py.floor() as i32);
                // The head's ink ring may cross the last points.
                let by_head = (px - heads[i].0).hypot(py - heads[i].1)
                    <= head_reach(&heads, i) + 1.0
                    && (px, py) != heads[i];
                if covered((px, py)) || by_head {
                    continue;
                }
                assert!(
                    close(gif.pixel(frame, x, y), colour),
                    "frame {frame}: {} at ({px:.1}, {py:.1}) is {:?}",
                    run.name,
                    gif.pixel(frame, x, y)
                );
                seen += 1;
            }
            if step > 3 {
                assert!(
                    count > 0 && seen > 0,
                    "frame {frame}: {} not drawn",
                    run.name
                );
            }
        }
    }
    // The last frame: each run's trail is long, each head is its own colour at its end.
    let last = gif.frames.len() - 1;
    for (i, run) in runs.iter().enumerate() {
        let head = layout.panel.to_pixel(run.last().x, run.last().y);
        let other_head_near = runs
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .any(|(_, r)| {
                let h = layout.panel.to_pixel(r.last().x, r.last().y);
                (h.0 - head.0).hypot(h.1 - head.1) < 2.0 * 5.5 + 2.0
            });
        if !other_head_near {
            let p = gif.pixel(last, head.0 as i32, head.1 as i32);
            assert!(close(p, series_rgb(i)), "{}'s head is {p:?}", run.name);
        }
    }
}

#[test]
fn the_legend_keys_each_colour_and_tells_the_step_and_losses() {
    let runs = article_runs();
    let gif = Animation::decode(&animation(&article(), &runs).unwrap());
    let layout = animation_layout(article().window(), runs.len()).unwrap();
    let in_box = |frame: usize, r: optimist_lab::figure::Rect, colour: [u8; 3]| {
        let mut n = 0;
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                n += close(gif.pixel(frame, x, y), colour) as usize;
            }
        }
        n
    };
    for i in 0..runs.len() {
        let entry = layout.entry(i);
        assert!(in_box(0, entry, series_rgb(i)) > 30, "entry {i}'s swatch");
        for j in (0..runs.len()).filter(|&j| j != i) {
            assert_eq!(
                in_box(0, entry, series_rgb(j)),
                0,
                "entry {i} has {j}'s colour"
            );
        }
    }
    // The step counter and the losses change from frame to frame; the rest stays.
    let differ = |a: usize, b: usize, r: optimist_lab::figure::Rect| {
        (r.y..r.bottom())
            .any(|y| (r.x..r.right()).any(|x| gif.pixel(a, x, y) != gif.pixel(b, x, y)))
    };
    let counter = optimist_lab::figure::Rect {
        height: 24,
        ..layout.legend
    };
    assert!(differ(0, 1, counter) && differ(1, 2, counter));
    for i in 0..runs.len() {
        assert!(differ(0, 30, layout.entry(i)), "entry {i}'s loss");
    }
    let header = optimist_lab::figure::Rect {
        x: 0,
        y: 0,
        width: layout.width,
        height: layout.panel.plot.y as u32 - 2,
    };
    assert!(!differ(0, 30, header), "the formula does not move");
}

#[test]
fn a_diverged_run_is_marked_and_long_races_are_spread_over_the_frame_limit() {
    let mut race = Race::article();
    race.steps = 1000;
    race.optimizers = vec![
        "sgd:lr=1.5".parse().unwrap(),
        "momentum:lr=0.01".parse().unwrap(),
    ];
    let runs = race.run::<f64>(&article()).unwrap();
    let diverged = runs[0].diverged_at.expect("lr 1.5 doubles |y| each step");
    let started = Instant::now();
    let bytes = animation(&article(), &runs).unwrap();
    println!(
        "1000 steps, one diverging: {} bytes, rendered in {:?}",
        bytes.len(),
        started.elapsed()
    );
    let gif = Animation::decode(&bytes);
    assert_eq!(gif.frames.len(), MAX_FRAMES);
    let steps = frame_steps(1000);
    assert_eq!(
        (steps[0], steps[MAX_FRAMES - 1], steps.len()),
        (0, 1000, MAX_FRAMES)
    );
    assert!(steps.windows(2).all(|s| (6..=7).contains(&(s[1] - s[0]))));

    let layout = animation_layout(article().window(), runs.len()).unwrap();
    let entry = layout.entry(0);
    let orange_text = |frame: usize| {
        (entry.y..entry.bottom())
            .flat_map(|y| (entry.x..entry.right()).map(move |x| (x, y)))
            .filter(|&(x, y)| close(gif.pixel(frame, x, y), DIVERGED_RGB))
            .count()
    };
    let before = steps.iter().position(|&s| s >= diverged).unwrap() - 1;
    assert_eq!(orange_text(before), 0);
    assert!(
        orange_text(before + 1) > 20,
        "\"diverged at step {diverged}\""
    );
    assert!(orange_text(MAX_FRAMES - 1) > 20);
}

#[test]
fn every_landscape_animates_and_bad_input_is_an_error() {
    for landscape in optimist_lab::landscape::builtins() {
        let mut race = Race::article();
        race.start = landscape.start();
        race.steps = 40;
        race.optimizers = vec!["adam:lr=0.05".parse().unwrap()];
        let runs = race.run::<f64>(&landscape).unwrap();
        let gif = Animation::decode(&animation(&landscape, &runs).unwrap());
        assert_eq!(gif.frames.len(), 41, "{}", landscape.name());
    }
    assert_eq!(animation(&article(), &[]).unwrap_err(), FigureError::NoRuns);
}

/// At step 0 every head sits on the start: they stack as concentric rings, so each run's
/// colour shows there, not only the last one's.
#[test]
fn at_the_start_every_runs_colour_shows() {
    let runs = article_runs();
    let a = article();
    let framed = optimist_lab::framing::Framed {
        inner: &a,
        window: optimist_lab::framing::paths_window(&a, &runs, Race::article().start),
    };
    let bytes = animation(&framed, &runs).unwrap();
    let gif = Animation::decode(&bytes);
    let layout = animation_layout(framed.window(), runs.len()).unwrap();
    let (cx, cy) = layout
        .panel
        .to_pixel(Race::article().start.0, Race::article().start.1);
    // Run i's disc is 5.5 px in radius plus 3 px per later run stacked on it: its
    // colour shows in the band between its edge and the next disc's.
    let n = runs.len();
    let radius = |i: usize| 5.5 + 3.0 * (n - 1 - i) as f64;
    let reach = radius(0).ceil() as i32 + 1;
    for i in 0..n {
        let inner = if i + 1 < n { radius(i + 1) } else { 0.0 };
        let (mut in_band, mut inside) = (0, 0);
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (x, y) = (cx.floor() as i32 + dx, cy.floor() as i32 + dy);
                let d = (x as f64 + 0.5 - cx).hypot(y as f64 + 0.5 - cy);
                if !close(gif.pixel(0, x, y), series_rgb(i)) {
                    continue;
                }
                if d >= inner && d <= radius(i) {
                    in_band += 1;
                } else if d < inner - 1.5 {
                    inside += 1;
                }
            }
        }
        // A band at least a pixel wide all round.
        assert!(
            in_band as f64 >= 2.0 * inner.max(1.0),
            "run {i}: {in_band} pixels of its colour in its ring at the start"
        );
        assert_eq!(
            inside, 0,
            "run {i}: its colour inside the later runs' discs"
        );
    }
}

#[test]
fn a_raised_flag_stops_the_animation_and_a_lowered_one_changes_nothing() {
    use std::sync::atomic::AtomicBool;
    let landscape = builtin("article").unwrap();
    let runs = Race::article().run::<f64>(&landscape).unwrap();
    let stopped = animation_until(&landscape, &runs, &AtomicBool::new(true));
    assert_eq!(stopped, Err(FigureError::Cancelled));
    let whole = animation_until(&landscape, &runs, &AtomicBool::new(false)).unwrap();
    assert_eq!(whole, animation(&landscape, &runs).unwrap());
}
