//! The interactive page in a real browser: headless Chromium loads it from a file, and
//! the test looks at a screenshot, moves the slider, steps with the keyboard, toggles an
//! optimizer off, points at the plot and presses play, reading what changed each time.
//!
//! Chromium is Debian's `chromium` package (`.ci/run` installs it), or the binary
//! `OPTIMIST_CHROMIUM` names. Without one the test prints "skipped: no chromium found"
//! and passes, unless `OPTIMIST_REQUIRE_CHROMIUM` is set (as `.ci/run` does), when it
//! fails.

use headless_chrome::browser::tab::point::Point;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use optimist_lab::figure::{grid_layout, page, series_rgb};
use optimist_lab::landscape::{builtin, Landscape};
use optimist_lab::output::write_atomic;
use optimist_lab::race::{Race, Run};
use std::error::Error;
use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The browser to drive: `OPTIMIST_CHROMIUM`, else the first of the usual names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OPTIMIST_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium, headless, on a fresh profile, with everything that would reach the network
/// turned off (this machine has none; Chromium otherwise retries connections).
fn launch(binary: &Path, profile: &Path) -> Result<Browser> {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--force-device-scale-factor=1",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(binary.to_path_buf()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .window_size(Some((1400, 1000)))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args)
        .build()?;
    Ok(Browser::new(options)?)
}

/// A screenshot as RGB rows.
struct Shot {
    width: usize,
    rgb: Vec<u8>,
}

impl Shot {
    fn take(tab: &Tab) -> Result<Shot> {
        let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)?;
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info()?;
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer)?;
        buffer.truncate(info.buffer_size());
        let channels = info.color_type.samples();
        let rgb = buffer
            .chunks_exact(channels)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok(Shot {
            width: info.width as usize,
            rgb,
        })
    }

    fn pixel(&self, x: i32, y: i32) -> [u8; 3] {
        let i = (y as usize * self.width + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels of `area` (left, top, width, height) close to `colour`.
    fn count(&self, area: (i32, i32, i32, i32), colour: [u8; 3]) -> usize {
        let (l, t, w, h) = area;
        (t..t + h)
            .flat_map(|y| (l..l + w).map(move |x| (x, y)))
            .filter(|&(x, y)| close(self.pixel(x, y), colour))
            .count()
    }
}

fn close(p: [u8; 3], target: [u8; 3]) -> bool {
    let d: i32 = p
        .iter()
        .zip(target)
        .map(|(&a, b)| (a as i32 - b as i32).pow(2))
        .sum();
    d <= 30 * 30
}

/// The text of the elements `selectors` pick, in one round trip (the driver's element
/// lookups take about half a second each here).
fn texts(tab: &Tab, selectors: &[String]) -> Result<Vec<String>> {
    let list = serde_json::to_string(selectors)?;
    let value = evaluate(
        tab,
        &format!("{list}.map((s) => document.querySelector(s).textContent.trim())"),
    )?;
    Ok(serde_json::from_value(value)?)
}

fn text(tab: &Tab, selector: &str) -> Result<String> {
    Ok(texts(tab, &[selector.to_string()])?.remove(0))
}

/// A number as the page prints it (with a true minus sign).
fn number(text: &str) -> Result<f64> {
    Ok(text.replace('\u{2212}', "-").parse()?)
}

/// The value of a script expression, passed through JSON (the protocol returns objects
/// by reference).
fn evaluate(tab: &Tab, expression: &str) -> Result<serde_json::Value> {
    let json = tab
        .evaluate(&format!("JSON.stringify({expression})"), false)?
        .value
        .ok_or_else(|| format!("{expression} gave no value"))?;
    let text = json
        .as_str()
        .ok_or_else(|| format!("{expression} gave {json}"))?;
    Ok(serde_json::from_str(text)?)
}

/// An element's box on the page: left, top, width, height.
fn bounds(tab: &Tab, selector: &str) -> Result<Vec<f64>> {
    let r = evaluate(
        tab,
        &format!(
            "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]; }})()"
        ),
    )?;
    Ok(serde_json::from_value(r)?)
}

/// The step the label shows, from "step K of N".
fn shown_step(tab: &Tab) -> Result<usize> {
    let label = text(tab, "#step-label")?;
    let words: Vec<&str> = label.split_whitespace().collect();
    match words[..] {
        ["step", k, "of", "30"] => Ok(k.parse()?),
        _ => Err(format!("unexpected step label {label:?}").into()),
    }
}

/// Each run's row shows its position and loss at `step`, to the six digits printed.
fn check_rows(tab: &Tab, runs: &[Run], step: usize) -> Result<()> {
    let keys = ["x", "y", "f"];
    let selectors: Vec<String> = (0..runs.len())
        .flat_map(|i| keys.map(|key| format!("#{key}-{i}")))
        .collect();
    let shown = texts(tab, &selectors)?;
    for (i, run) in runs.iter().enumerate() {
        let p = run.points[step];
        for (k, (key, want)) in keys.into_iter().zip([p.x, p.y, p.loss]).enumerate() {
            let got = number(&shown[3 * i + k])?;
            assert!(
                (got - want).abs() <= 1e-5 * want.abs().max(1e-12),
                "{} at step {step}: {key} shows {got}, is {want}",
                run.name
            );
        }
    }
    Ok(())
}

#[test]
fn the_page_plays_steps_toggles_and_reads_out_in_chromium() -> Result<()> {
    let Some(binary) = chromium() else {
        if std::env::var_os("OPTIMIST_REQUIRE_CHROMIUM").is_some() {
            return Err("OPTIMIST_REQUIRE_CHROMIUM is set, but no chromium was found".into());
        }
        // Straight to stderr: the harness hides what print! says in a passing test.
        writeln!(std::io::stderr(), "skipped: no chromium found")?;
        return Ok(());
    };
    let dir = std::env::temp_dir().join(format!("optimist-html-browser-{}", std::process::id()));
    let profile = dir.join("profile");
    std::fs::create_dir_all(&profile)?;
    let result = drive(&binary, &dir, &profile);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn drive(binary: &Path, dir: &Path, profile: &Path) -> Result<()> {
    let article = builtin("article").ok_or("no article landscape")?;
    let runs = Race::article().run::<f64>(&article)?;
    let file = dir.join("compare.html");
    write_atomic(&file, page(&article, &runs)?.as_bytes())?;

    let browser = launch(binary, profile)?;
    let tab = browser.new_tab()?;
    tab.navigate_to(&format!("file://{}", file.display()))?
        .wait_until_navigated()?;
    tab.wait_for_element("body[data-ready='true']")?;
    println!("chromium: {}", browser.get_version()?.product);

    // Where the plot is: the canvas on the page, the plotting area within it.
    let rect = bounds(&tab, "#plot")?;
    let plot = grid_layout(runs.len(), article.window())?.panels[0].plot;
    let (left, top) = (rect[0] + 62.0, rect[1] + 12.0);
    assert_eq!(
        (rect[2], rect[3]),
        (
            (62 + plot.width + 16) as f64,
            (12 + plot.height + 52) as f64
        )
    );
    let area = (
        left as i32,
        top as i32,
        plot.width as i32,
        plot.height as i32,
    );
    let window = article.window();
    let to_page = |x: f64, y: f64| {
        (
            left + (x - window.x_min) / (window.x_max - window.x_min) * plot.width as f64,
            top + (window.y_max - y) / (window.y_max - window.y_min) * plot.height as f64,
        )
    };

    // The page opens at the start, every optimizer's hyperparameters beside its row.
    assert_eq!(shown_step(&tab)?, 0);
    check_rows(&tab, &runs, 0)?;
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(
            text(&tab, &format!("#hyper-{i}"))?,
            run.hyperparameter_text()
        );
    }
    let slider_width = bounds(&tab, "#step")?[2];

    // The loss chart goes to the step under a click: its right end, the last step.
    let chart = bounds(&tab, "#loss")?;
    let (chart_left, chart_width) = (chart[0] + 58.0, 270.0);
    let chart_top = chart[1] + 8.0;
    tab.click_point(Point {
        x: chart_left + chart_width - 0.5,
        y: chart_top + 60.0,
    })?;
    assert_eq!(shown_step(&tab)?, 30);
    // Its cursor marks the step shown.
    let cursor = |tab: &Tab| -> Result<f64> {
        let v = evaluate(tab, "document.getElementById('loss').dataset.cursor")?;
        Ok(v.as_str().ok_or("no cursor")?.parse()?)
    };
    assert_eq!(cursor(&tab)?, (58.0f64 + chart_width).round() + 0.5);

    // The whole race: not blank, every trail in its colour, each head at its end.
    let full = Shot::take(&tab)?;
    let inked = (area.1..area.1 + area.3)
        .flat_map(|y| (area.0..area.0 + area.2).map(move |x| (x, y)))
        .filter(|&(x, y)| full.pixel(x, y) != [255, 255, 255])
        .count();
    assert!(
        inked * 20 > (area.2 * area.3) as usize,
        "{inked} inked pixels"
    );
    let trail: Vec<usize> = (0..runs.len())
        .map(|i| full.count(area, series_rgb(i)))
        .collect();
    println!("trail pixels at step 30: {trail:?}");
    assert!(trail.iter().all(|&n| n > 100), "{trail:?}");
    assert_eq!(shown_step(&tab)?, 30);
    check_rows(&tab, &runs, 30)?;

    // Clicking the slider's middle shows a step near the middle, and only that far.
    // (Clicks go to a point found in one round trip: the driver's element click takes
    // about a second here, much of the six seconds a play through lasts.)
    let slider = bounds(&tab, "#step")?;
    tab.click_point(Point {
        x: slider[0] + slider[2] / 2.0,
        y: slider[1] + slider[3] / 2.0,
    })?;
    let middle = shown_step(&tab)?;
    assert!((10..=20).contains(&middle), "step {middle}");
    check_rows(&tab, &runs, middle)?;
    assert_eq!(
        bounds(&tab, "#step")?[2],
        slider_width,
        "the slider's width changed"
    );
    let at_middle = cursor(&tab)?;
    assert!(
        (at_middle - (58.0 + chart_width * middle as f64 / 30.0)).abs() <= 1.0,
        "cursor at {at_middle} for step {middle}"
    );
    // The chart's cursor line is drawn there.
    let shot = Shot::take(&tab)?;
    let column = (chart[0] + at_middle).floor() as i32;
    let dark = (0..100)
        .filter(|&dy| {
            (column - 1..=column + 1).any(|x| {
                close(
                    shot.pixel(x, (chart_top + 10.0) as i32 + dy),
                    [0x22, 0x22, 0x22],
                )
            })
        })
        .count();
    assert!(dark > 50, "{dark} dark pixels on the cursor line");
    let shot = Shot::take(&tab)?;
    for (i, run) in runs.iter().enumerate() {
        let fewer = shot.count(area, series_rgb(i));
        assert!(
            fewer < trail[i],
            "{}: {fewer} pixels at step {middle}",
            run.name
        );
    }
    // The first run's head sits on its position at that step.
    let (hx, hy) = to_page(runs[0].points[middle].x, runs[0].points[middle].y);
    let head = shot.pixel(hx as i32, hy as i32);
    assert!(close(head, series_rgb(0)), "{head:?} at the head");

    // The keyboard steps back one; the slider keeps its width whatever the numbers.
    tab.press_key("ArrowLeft")?;
    assert_eq!(shown_step(&tab)?, middle - 1);
    check_rows(&tab, &runs, middle - 1)?;
    assert!(cursor(&tab)? < at_middle);
    for _ in 0..6 {
        tab.press_key("ArrowLeft")?;
        assert_eq!(
            bounds(&tab, "#step")?[2],
            slider_width,
            "the slider's width changed"
        );
    }
    for _ in 0..6 {
        tab.press_key("ArrowRight")?;
    }

    // Toggling momentum off removes its trail and nothing else.
    let before = Shot::take(&tab)?;
    let colour = series_rgb(1);
    assert!(before.count(area, colour) > 50);
    let toggle = bounds(&tab, "#toggle-1")?;
    let toggle = Point {
        x: toggle[0] + toggle[2] / 2.0,
        y: toggle[1] + toggle[3] / 2.0,
    };
    tab.click_point(toggle)?;
    assert_eq!(
        evaluate(&tab, "document.getElementById('toggle-1').checked")?,
        false
    );
    let after = Shot::take(&tab)?;
    assert_eq!(after.count(area, colour), 0, "momentum's trail stays");
    for i in [0, 2, 3] {
        assert!(after.count(area, series_rgb(i)) > 50, "run {i} went too");
    }
    tab.click_point(toggle)?;
    assert!(
        Shot::take(&tab)?.count(area, colour) > 50,
        "momentum is back"
    );

    // The pointer's values: its position, f there, and the trail point under it.
    let (px, py) = to_page(5.0, -5.0);
    tab.move_mouse_to_point(Point { x: px, y: py })?;
    let (x, y) = (
        number(&text(&tab, "#pointer-x")?)?,
        number(&text(&tab, "#pointer-y")?)?,
    );
    let f = number(&text(&tab, "#pointer-f")?)?;
    let pixel = 20.0 / plot.width as f64;
    assert!(
        (x - 5.0).abs() <= pixel && (y + 5.0).abs() <= pixel,
        "({x}, {y})"
    );
    assert!(
        (f - article.value(x, y)).abs() <= 0.01 * article.value(x, y),
        "f ≈ {f}"
    );
    let p = runs[3].points[5];
    let (px, py) = to_page(p.x, p.y);
    tab.move_mouse_to_point(Point { x: px, y: py })?;
    let nearest = text(&tab, "#nearest")?;
    println!("pointer on adam's step 5: {nearest}");
    // Named by its label, as in the CSV and the other figures.
    assert!(nearest.starts_with("adam, step 5: "), "{nearest:?}");
    // The point the readout names is ringed on the plot.
    assert_eq!(
        evaluate(&tab, "document.getElementById('plot').dataset.highlight")?,
        "3:5"
    );
    let ringed = Shot::take(&tab)?;
    let ring = |shot: &Shot| {
        (0..24)
            .filter(|&a| {
                let angle = a as f64 * std::f64::consts::TAU / 24.0;
                let (x, y) = (px + 10.0 * angle.cos(), py + 10.0 * angle.sin());
                close(
                    shot.pixel(x.round() as i32, y.round() as i32),
                    [0x22, 0x22, 0x22],
                )
            })
            .count()
    };
    assert!(ring(&ringed) >= 16, "{} of 24 ring pixels", ring(&ringed));
    tab.move_mouse_to_point(Point { x: 2.0, y: 2.0 })?;
    assert_eq!(
        evaluate(&tab, "document.getElementById('plot').dataset.highlight")?,
        ""
    );
    assert!(ring(&Shot::take(&tab)?) < 8, "the ring stays");

    // From the start, play runs the race on and pause stops it.
    tab.click_point(Point {
        x: slider[0] + 1.0,
        y: slider[1] + slider[3] / 2.0,
    })?;
    assert_eq!(shown_step(&tab)?, 0, "the slider's left end");
    check_rows(&tab, &runs, 0)?;
    let button = bounds(&tab, "#play")?;
    let play = Point {
        x: button[0] + button[2] / 2.0,
        y: button[1] + button[3] / 2.0,
    };
    tab.click_point(play)?;
    assert_eq!(text(&tab, "#play")?, "Pause");
    let mut waited = 0;
    while shown_step(&tab)? == 0 && waited < 50 {
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    }
    tab.click_point(play)?;
    assert_eq!(text(&tab, "#play")?, "Play");
    let paused = shown_step(&tab)?;
    assert!((1..30).contains(&paused), "paused at step {paused}");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(shown_step(&tab)?, paused, "moved while paused");
    check_rows(&tab, &runs, paused)?;
    leaving(&tab, dir)
}

/// A trail that leaves the window: an arrowhead at the edge where it left, pointing
/// out, and its row says when.
fn leaving(tab: &Tab, dir: &Path) -> Result<()> {
    let article = builtin("article").ok_or("no article landscape")?;
    let mut race = Race::article();
    // y ← −3y: 2, −6, 18 leaves the window's top edge (y = 10) on step 2.
    race.optimizers = vec!["sgd:lr=2".parse()?, "adam:lr=0.3".parse()?];
    let runs = race.run::<f64>(&article)?;
    let file = dir.join("leaving.html");
    write_atomic(&file, page(&article, &runs)?.as_bytes())?;
    tab.navigate_to(&format!("file://{}", file.display()))?
        .wait_until_navigated()?;
    tab.wait_for_element("body[data-ready='true']")?;
    assert_eq!(text(tab, "#status-0")?, "");
    let chart = bounds(tab, "#loss")?;
    tab.click_point(Point {
        x: chart[0] + 58.0 + 269.5,
        y: chart[1] + 60.0,
    })?;
    assert_eq!(text(tab, "#status-0")?, "left the window at step 2");
    assert_eq!(text(tab, "#status-1")?, "");
    let rect = bounds(tab, "#plot")?;
    let plot = grid_layout(runs.len(), article.window())?.panels[0].plot;
    let window = article.window();
    let (a, b) = (runs[0].points[1], runs[0].points[2]);
    let t = (window.y_max - a.y) / (b.y - a.y);
    let x = a.x + t * (b.x - a.x);
    let u = rect[0] + 62.0 + (x - window.x_min) / (window.x_max - window.x_min) * plot.width as f64;
    let v = rect[1] + 12.0;
    let shot = Shot::take(tab)?;
    // The arrowhead's body, either side of the trail's line, below its tip on the edge
    // (inside its dark outline, which is 1.5 px wide).
    for side in [-1.5, 1.5] {
        let p = shot.pixel((u + side).round() as i32, (v + 7.0).round() as i32);
        assert!(
            close(p, series_rgb(0)),
            "{p:?} beside the trail at the exit"
        );
    }
    Ok(())
}
